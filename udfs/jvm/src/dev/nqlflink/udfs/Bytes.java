package dev.nqlflink.udfs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * State bytes in exactly the format of {@link DataOutputStream} and {@link DataInputStream}
 * (big-endian numbers, strings as modified UTF-8 after their length), read and written on a
 * byte array directly. The streams go through a synchronized call per byte
 * ({@link ByteArrayInputStream#read()}), which was a tenth of the windows function's time for
 * 100 shapes (issue 15, docs/flink-job-shape.md §7). Strings of ASCII characters other than NUL
 * (device names, group JSON) take a fast path; any other goes through the streams' own coding.
 */
final class Bytes {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private Bytes() {
    }

    /** The big-endian long at {@code at} (DataInputStream's readLong there), without a buffer. */
    static long longAt(byte[] b, int at) {
        return (long) LONGS.get(b, at);
    }

    /** Writes a big-endian long at {@code at} (what DataOutputStream's writeLong writes). */
    static void putLong(byte[] b, int at, long value) {
        LONGS.set(b, at, value);
    }

    static final class Writer {
        private byte[] buf;
        private int size;

        Writer(int capacity) {
            buf = new byte[Math.max(16, capacity)];
        }

        private void ensure(int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(size + n, buf.length * 2));
            }
        }

        int position() {
            return size;
        }

        void writeBoolean(boolean v) {
            writeByte(v ? 1 : 0);
        }

        void writeByte(int v) {
            ensure(1);
            buf[size++] = (byte) v;
        }

        void writeShort(int v) {
            ensure(2);
            buf[size++] = (byte) (v >>> 8);
            buf[size++] = (byte) v;
        }

        void writeInt(int v) {
            ensure(4);
            putInt(size, v);
            size += 4;
        }

        /** Writes {@code v} over the four bytes at {@code at} (a length known only afterwards). */
        void putInt(int at, int v) {
            buf[at] = (byte) (v >>> 24);
            buf[at + 1] = (byte) (v >>> 16);
            buf[at + 2] = (byte) (v >>> 8);
            buf[at + 3] = (byte) v;
        }

        void writeLong(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                buf[size++] = (byte) (v >>> shift);
            }
        }

        void writeDouble(double v) {
            writeLong(Double.doubleToLongBits(v));   // as DataOutputStream.writeDouble
        }

        void write(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        void writeUTF(String s) {
            int n = s.length();
            if (n <= 0xFFFF) {
                // one byte per character while all are 1..0x7F (modified UTF-8 codes those so)
                ensure(2 + n);
                int at = size + 2;
                int i = 0;
                for (char c; i < n && (c = s.charAt(i)) != 0 && c <= 0x7F; i++) {
                    buf[at + i] = (byte) c;
                }
                if (i == n) {
                    writeShort(n);
                    size += n;
                    return;
                }
            }
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(2 + s.length() * 3);
                new DataOutputStream(bytes).writeUTF(s);
                write(bytes.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The bytes written (the buffer itself when they fill it exactly: the writer is done then). */
        byte[] toByteArray() {
            return size == buf.length ? buf : Arrays.copyOf(buf, size);
        }

        /** The bytes written from {@code from} on (a value's coding, to write again with write). */
        byte[] from(int from) {
            return Arrays.copyOfRange(buf, from, size);
        }
    }

    /** How many bytes {@link Writer#writeUTF} writes for {@code s}: its length, then modified UTF-8. */
    static int utfLength(String s) {
        int n = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c >= 1 && c <= 0x7F ? 1 : c <= 0x7FF ? 2 : 3;
        }
        return n;
    }

    /** {@code s} as {@link Writer#writeUTF} writes it (DataOutputStream's coding). */
    static byte[] utf(String s) {
        Writer out = new Writer(2 + s.length());
        out.writeUTF(s);
        return out.toByteArray();
    }

    /** A {@link ByteBuffer} (big-endian, as DataInputStream) with DataInputStream's string coding. */
    static final class Reader {
        private final ByteBuffer b;

        Reader(byte[] data) {
            b = ByteBuffer.wrap(data);
        }

        int available() {
            return b.remaining();
        }

        int position() {
            return b.position();
        }

        /** The bytes read from {@code from} on (a value's coding, to write again as it was). */
        byte[] from(int from) {
            return Arrays.copyOfRange(b.array(), from, b.position());
        }

        boolean readBoolean() {
            return b.get() != 0;
        }

        byte readByte() {
            return b.get();
        }

        short readShort() {
            return b.getShort();
        }

        int readInt() {
            return b.getInt();
        }

        long readLong() {
            return b.getLong();
        }

        double readDouble() {
            return b.getDouble();
        }

        byte[] readBytes(int n) {
            byte[] out = new byte[n];
            b.get(out);
            return out;
        }

        String readUTF() {
            int at = b.position();
            int n = b.getShort(at) & 0xFFFF;
            byte[] a = b.array();
            boolean ascii = true;
            for (int i = at + 2; i < at + 2 + n && ascii; i++) {
                ascii = a[i] > 0;   // 1..0x7F: one character each; anything else is coded
            }
            b.position(at + 2 + n);
            if (ascii) {
                return new String(a, at + 2, n, StandardCharsets.ISO_8859_1);
            }
            try {
                return new DataInputStream(new ByteArrayInputStream(a, at, 2 + n)).readUTF();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
