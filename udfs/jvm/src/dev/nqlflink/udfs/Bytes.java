package dev.nqlflink.udfs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
    private Bytes() {
    }

    /** Whether modified UTF-8 writes {@code s} as one byte per character (1..0x7F each). */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0 || c > 0x7F) {
                return false;
            }
        }
        return true;
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
            ensure(1);
            buf[size++] = (byte) (v ? 1 : 0);
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
            if (s.length() <= 0xFFFF && plain(s)) {
                ensure(2 + s.length());
                writeShort(s.length());
                for (int i = 0; i < s.length(); i++) {
                    buf[size++] = (byte) s.charAt(i);   // one byte per character: all are ASCII
                }
                return;
            }
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(2 + s.length() * 3);
                new DataOutputStream(bytes).writeUTF(s);
                write(bytes.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }

    static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        int available() {
            return b.length - pos;
        }

        void skip(int n) {
            pos += n;
        }

        boolean readBoolean() {
            return b[pos++] != 0;
        }

        int readUnsignedShort() {
            int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            return v;
        }

        short readShort() {
            return (short) readUnsignedShort();
        }

        int readInt() {
            int v = ((b[pos] & 0xFF) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
            pos += 4;
            return v;
        }

        long readLong() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (b[pos + i] & 0xFF);
            }
            pos += 8;
            return v;
        }

        double readDouble() {
            return Double.longBitsToDouble(readLong());
        }

        String readUTF() {
            int n = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            int from = pos + 2;
            boolean ascii = true;
            for (int i = from; i < from + n && ascii; i++) {
                ascii = b[i] > 0;   // 1..0x7F: one character each; anything else is coded
            }
            if (ascii) {
                pos = from + n;
                return new String(b, from, n, StandardCharsets.ISO_8859_1);
            }
            try {
                String s = new DataInputStream(new ByteArrayInputStream(b, pos, 2 + n)).readUTF();
                pos = from + n;
                return s;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
