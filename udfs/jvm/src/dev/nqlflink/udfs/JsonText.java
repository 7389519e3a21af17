package dev.nqlflink.udfs;

import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;

import java.time.format.DateTimeFormatter;

/**
 * Text of JSON values as Flink's JSON functions write them, for records the project writes
 * without building a JSON tree ({@link StateRecord}, {@link AlertRecord}): strings escaped as
 * Flink's shaded Jackson escapes them (quote, backslash, the control characters: {@code \b \t \n
 * \f \r} short, the others {@code \}{@code u00XX} with upper-case digits; everything else as it
 * is, non-ASCII included), times as {@code DATE_FORMAT(ts, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')}
 * writes a TIMESTAMP(3), JSON text taken as it is, and a DOUBLE inside a nested object.
 * tests/flink/test_state_record.py and test_alert_record.py compare the results with Flink's own
 * on the engine.
 */
final class JsonText {
    private static final DateTimeFormatter FORMATTER = DateTimeFormatter.ofPattern(RecordTime.TIME_FORMAT);
    /** Jackson's digits of a {@code \}{@code u00XX} escape (upper case). */
    static final char[] UPPER_HEX = "0123456789ABCDEF".toCharArray();
    /** Python's json.dumps digits (lower case: AlertStates' alert ids). */
    static final char[] LOWER_HEX = "0123456789abcdef".toCharArray();
    private static final long DAY_MS = 86_400_000L;
    /** 0001-01-01 and 10000-01-01 in days from the epoch: the years written with four digits. */
    private static final long FIRST_DAY = -719_162L;
    private static final long END_DAY = 2_932_897L;

    private JsonText() {
    }

    /** A member's value: the string quoted and escaped, or {@code null}. */
    static StringBuilder string(StringBuilder out, StringData value) {
        return string(out, value == null ? null : value.toString(), UPPER_HEX);
    }

    /** A string quoted with the escapes above, {@code hex} the digits of a {@code \}{@code u00XX}
     * escape; {@code null} for null. */
    static StringBuilder string(StringBuilder out, String value, char[] hex) {
        if (value == null) {
            return out.append("null");
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20) {
                out.append(c);
            } else if (c == '\b') {
                out.append("\\b");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\f') {
                out.append("\\f");
            } else if (c == '\r') {
                out.append("\\r");
            } else {
                out.append("\\u00").append(hex[c >> 4]).append(hex[c & 0xF]);
            }
        }
        return out.append('"');
    }

    /** A member's value that is JSON text already (Flink's own, compact, in key order), or {@code null}. */
    static StringBuilder raw(StringBuilder out, StringData json) {
        return out.append(json == null ? "null" : json.toString());
    }

    /**
     * A DOUBLE as Flink writes it inside a nested JSON_OBJECT: the inner object's text (Jackson:
     * {@link Double#toString}) read back as a BigDecimal and written as one (5.0E-6 becomes
     * 0.0000050, 1.0E7 becomes 1.0E+7).
     */
    static String nested(double value) {
        return Double.isFinite(value) ? new java.math.BigDecimal(Double.toString(value)).toString()
                : Double.toString(value);
    }

    /** A time member's value: the time quoted in the records' format, or {@code null}. */
    static StringBuilder time(StringBuilder out, TimestampData ts) {
        if (ts == null) {
            return out.append("null");
        }
        out.append('"');
        long millis = ts.getMillisecond();
        long day = Math.floorDiv(millis, DAY_MS);
        if (day < FIRST_DAY || day >= END_DAY) {
            // years of other widths and eras: the formatter's own rules
            return out.append(FORMATTER.format(ts.toLocalDateTime())).append('"');
        }
        int ofDay = (int) Math.floorMod(millis, DAY_MS);
        // the civil date of a day count (H. Hinnant's days_from_civil, inverted)
        long z = day + 719_468L;
        long era = Math.floorDiv(z, 146_097L);
        long doe = z - era * 146_097L;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int d = (int) (doy - (153 * mp + 2) / 5 + 1);
        int m = (int) (mp < 10 ? mp + 3 : mp - 9);
        int y = (int) (yoe + era * 400 + (m <= 2 ? 1 : 0));
        digits(out, y, 4).append('-');
        digits(out, m, 2).append('-');
        digits(out, d, 2).append('T');
        digits(out, ofDay / 3_600_000, 2).append(':');
        digits(out, ofDay / 60_000 % 60, 2).append(':');
        digits(out, ofDay / 1000 % 60, 2).append('.');
        return digits(out, ofDay % 1000, 3).append("Z\"");
    }

    /** A non-negative number with at least {@code width} digits. */
    private static StringBuilder digits(StringBuilder out, int value, int width) {
        for (int w = 1, p = 10; w < width; w++, p *= 10) {
            if (value < p) {
                out.append('0');
            }
        }
        return out.append(value);
    }
}
