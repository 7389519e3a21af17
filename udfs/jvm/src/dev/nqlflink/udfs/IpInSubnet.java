package dev.nqlflink.udfs;

import org.apache.flink.table.functions.ScalarFunction;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * {@code nql_ip_in_subnet(ip, network, prefix)}: whether the address {@code ip} (text, IPv4
 * dotted quad or IPv6) lies in {@code network/prefix} (NQL {@code client.ip == 10.20.0.0/16}).
 * NULL when {@code ip} is NULL or not an address (as any comparison with a value of the wrong
 * type); an IPv4 address is never in an IPv6 network, nor the reverse.
 *
 * <p>Text is parsed as a literal address only: IPv4 by hand (four numbers 0..255), IPv6 by
 * {@link InetAddress#getByName} only when it holds a ':' and nothing but hex digits, ':' and
 * '.', which Java parses as a literal and never resolves by DNS.
 */
public class IpInSubnet extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    public Boolean eval(String ip, String network, Integer prefix) {
        if (ip == null || network == null || prefix == null) {
            return null;
        }
        byte[] a = parse(ip.trim());
        byte[] n = parse(network);
        if (a == null || n == null) {
            return null;
        }
        if (a.length != n.length) {
            return false;
        }
        int bits = prefix;
        for (int i = 0; i < a.length && bits > 0; i++, bits -= 8) {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((a[i] & mask) != (n[i] & mask)) {
                return false;
            }
        }
        return true;
    }

    static byte[] parse(String text) {
        if (text.indexOf(':') >= 0) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                    return null;
                }
            }
            try {
                byte[] b = InetAddress.getByName(text).getAddress();
                return b.length == 16 ? b : null;  // an IPv4-mapped text comes back as IPv4: not an IPv6 value
            } catch (UnknownHostException e) {
                return null;
            }
        }
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3) {
                return null;
            }
            int v = 0;
            for (int j = 0; j < p.length(); j++) {
                char c = p.charAt(j);
                if (c < '0' || c > '9') {
                    return null;
                }
                v = v * 10 + (c - '0');
            }
            if (v > 255) {
                return null;
            }
            out[i] = (byte) v;
        }
        return out;
    }
}
