package dev.nqlflink.udfs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** The UTF-8 check of {@code nql_read} (udfs/jvm {@link ReadRecord}, reason {@code not_utf8}). */
final class Utf8 {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Utf8() {}

    /** Whether the bytes are well-formed UTF-8 (RFC 3629: no overlong form, no surrogate,
     * nothing above U+10FFFF), i.e. whether decoding them and encoding the text again gives
     * them back: the SQL check {@code CAST(line AS BYTES) <> ENCODE(line, 'UTF-8')} that
     * {@code not_utf8} stands for, without building the text. */
    static boolean valid(byte[] b) {
        int i = 0;
        int n = b.length;
        while (i < n) {
            while (i + 8 <= n && ((long) LONGS.get(b, i) & 0x8080808080808080L) == 0) {
                i += 8;  // eight ASCII bytes at once: most lines are all ASCII
            }
            if (i == n) {
                return true;
            }
            int c = b[i];
            if (c >= 0) {
                i++;
                continue;
            }
            c &= 0xFF;
            int size = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
            if (size == 0 || i + size > n) {
                return false;  // a continuation byte first, an overlong lead, above U+10FFFF, or cut
            }
            // the second byte's range excludes overlong forms, surrogates and above U+10FFFF
            int lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
            int hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
            int c1 = b[i + 1] & 0xFF;
            if (c1 < lo || c1 > hi) {
                return false;
            }
            for (int k = 2; k < size; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    return false;
                }
            }
            i += size;
        }
        return true;
    }
}
