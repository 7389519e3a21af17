"""The windows function's state bytes (udfs/jvm Bytes) are DataOutputStream's format: what
Bytes.Writer writes is byte for byte what DataOutputStream writes, and Bytes.Reader reads back
what DataOutputStream wrote, for ASCII strings (the fast path) and for those modified UTF-8 codes
otherwise (NUL, accents, a character outside the BMP), numbers at their edges, -0.0 and NaN, single bytes.
The oracle is the JDK's own DataOutputStream, in the same JVM."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.util.Arrays;

public class StateBytesCheck {
    public static void main(String[] args) throws Exception {
        String[] strings = {"", "abc", "{\"device.virtualization.desktop_pool\":\"Finance-Win11\"}", "a\u0000b", "Zürich",
                            "日本", "\uD83D\uDE00x", "x".repeat(30000)};
        for (String s : strings) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream o = new DataOutputStream(bytes);
            o.writeUTF(s); o.writeLong(Long.MIN_VALUE); o.writeInt(-7); o.writeShort(-3); o.writeBoolean(true);
            o.writeBoolean(false); o.writeDouble(-0.0); o.writeDouble(Double.NaN); o.writeDouble(1.5e300); o.writeByte(-5); o.writeByte(2);
            byte[] want = bytes.toByteArray();
            Bytes.Writer w = new Bytes.Writer(1);
            w.writeUTF(s); w.writeLong(Long.MIN_VALUE); w.writeInt(-7); w.writeShort(-3); w.writeBoolean(true);
            w.writeBoolean(false); w.writeDouble(-0.0); w.writeDouble(Double.NaN); w.writeDouble(1.5e300); w.writeByte(-5); w.writeByte(2);
            if (!Arrays.equals(want, w.toByteArray())) {
                throw new AssertionError("written differently: a string of " + s.length());
            }
            Bytes.Reader r = new Bytes.Reader(want);
            if (!r.readUTF().equals(s) || r.readLong() != Long.MIN_VALUE || r.readInt() != -7 || r.readShort() != -3
                    || !r.readBoolean() || r.readBoolean()
                    || Double.doubleToRawLongBits(r.readDouble()) != Double.doubleToRawLongBits(-0.0)
                    || !Double.isNaN(r.readDouble()) || r.readDouble() != 1.5e300 || r.readByte() != -5 || r.readByte() != 2
                    || r.available() != 0) {
                throw new AssertionError("read differently: a string of " + s.length());
            }
        }
        System.out.println("same");
    }
}
"""


def test_state_bytes_are_data_output_streams_format(tmp_path):
    assert run_java_check(tmp_path, "StateBytesCheck", CHECK) == "same"
