package dev.nqlflink.udfs;

import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.utils.DateTimeUtils;

import java.time.LocalDate;
import java.time.Month;
import java.time.Year;

/** The times of a record as {@code nql_read} reads them (udfs/jvm {@link ReadRecord}): the event
 * time, a version time and a datetime field, ISO-8601 UTC as the data model writes them. */
final class RecordTime {
    static final String TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";
    private static final long NOT_ISO = Long.MIN_VALUE;

    private RecordTime() {}

    /** A time as TO_TIMESTAMP(text, TIME_FORMAT) reads it: NULL when it cannot. */
    static TimestampData parse(String text) {
        if (text == null) {
            return null;
        }
        long ms = isoMillis(text);
        if (ms != NOT_ISO) {
            return TimestampData.fromEpochMillis(ms);
        }
        try {
            return DateTimeUtils.parseTimestampData(text, TIME_FORMAT);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The epoch milliseconds of a text in exactly {@link #TIME_FORMAT} with every field in its
     * range (what any sane producer writes), read by hand: Flink's formatter (java.time's
     * parse and resolve) was about a fifth of this function's time once the JSON was streamed.
     * Anything else is {@code NOT_ISO} and goes through Flink's parse with its leniencies (a day
     * past the month's end clamped to its last day, a date without a time, ...), which gives the
     * same result as this for a text this accepts.
     */
    static long isoMillis(String s) {
        if (s.length() != 24 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T'
                || s.charAt(13) != ':' || s.charAt(16) != ':' || s.charAt(19) != '.' || s.charAt(23) != 'Z') {
            return NOT_ISO;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        int milli = digits(s, 20, 3);
        if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 59 || milli < 0 || day > Month.of(month).length(Year.isLeap(year))) {
            return NOT_ISO;
        }
        return LocalDate.of(year, month, day).toEpochDay() * 86_400_000L + hour * 3_600_000L + minute * 60_000L
                + second * 1_000L + milli;
    }

    /** The value of n ASCII digits at s[from], -1 if one is not a digit. */
    private static int digits(String s, int from, int n) {
        int v = 0;
        for (int i = from; i < from + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
