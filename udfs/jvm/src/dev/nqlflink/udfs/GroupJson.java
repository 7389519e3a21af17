package dev.nqlflink.udfs;

import java.util.ArrayList;
import java.util.List;

/**
 * A group's text when its keys come from two sides ({@link WindowSpec} igrp: event fields per
 * record, inventory attributes per version): each side's keys rendered by Flink's JSON_OBJECT,
 * the two objects' members merged in key order. Flink's JSON_OBJECT writes its members sorted by
 * key, compact, so the merge is the text JSON_OBJECT of all the keys gives, byte for byte (the
 * alert-state keys and the alerts' group depend on it; tests/flink/test_mixed_groups.py checks it
 * on the engine with values that need escaping).
 *
 * <p>Keys are the group's names (identifiers and dots, never escaped); values are scalars or
 * null. The scan still skips strings with escapes and nested brackets, so that no value can cut
 * a member in two.
 */
final class GroupJson {
    private GroupJson() {
    }

    /** Both objects' members, in key order; null if either is not an object. */
    static String merge(String a, String b) {
        List<String[]> left = members(a);
        List<String[]> right = members(b);
        if (left == null || right == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(a.length() + b.length());
        out.append('{');
        int i = 0;
        int j = 0;
        while (i < left.size() || j < right.size()) {
            String[] next;
            if (j >= right.size() || (i < left.size() && left.get(i)[0].compareTo(right.get(j)[0]) <= 0)) {
                next = left.get(i++);
            } else {
                next = right.get(j++);
            }
            if (out.length() > 1) {
                out.append(',');
            }
            out.append(next[1]);
        }
        return out.append('}').toString();
    }

    /**
     * The merges of one record's groups: the shapes of the same keys merge the same two strings
     * (the same instances: the record's own group and its device version's part), once here.
     */
    static final class Merges {
        private final String[] a = new String[4];
        private final String[] b = new String[4];
        private final String[] merged = new String[4];
        private int next;

        String merge(String x, String y) {
            for (int i = 0; i < a.length && a[i] != null; i++) {
                if (a[i] == x && b[i] == y) {
                    return merged[i];
                }
            }
            String m = GroupJson.merge(x, y);
            int at = next++ % a.length;
            a[at] = x;
            b[at] = y;
            merged[at] = m;
            return m;
        }
    }

    /** {key, member text} of a compact JSON object, in order; null if it is not one. */
    static List<String[]> members(String json) {
        if (json == null || json.length() < 2 || json.charAt(0) != '{' || json.charAt(json.length() - 1) != '}') {
            return null;
        }
        List<String[]> out = new ArrayList<>();
        int end = json.length() - 1;
        int i = 1;
        while (i < end) {
            if (json.charAt(i) != '"') {
                return null;
            }
            int keyEnd = stringEnd(json, i);
            if (keyEnd < 0) {
                return null;
            }
            String key = json.substring(i + 1, keyEnd);
            int at = valueEnd(json, keyEnd + 2, end);
            if (keyEnd + 1 >= end || json.charAt(keyEnd + 1) != ':' || at < 0) {
                return null;
            }
            out.add(new String[] {key, json.substring(i, at)});
            i = at < end && json.charAt(at) == ',' ? at + 1 : at;
        }
        return out;
    }

    /** The index of the quote closing the string that opens at {@code start}; -1: none. */
    private static int stringEnd(String s, int start) {
        for (int i = start + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return -1;
    }

    /** Where the value starting at {@code start} ends (its ',' or the object's '}'); -1: broken. */
    private static int valueEnd(String s, int start, int end) {
        int depth = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (c == '"') {
                i = stringEnd(s, i);
                if (i < 0) {
                    return -1;
                }
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                return i;
            }
        }
        return depth == 0 ? end : -1;
    }
}
