package dev.nqlflink.udfs;

import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.utils.DateTimeUtils;

/** The times of a record as {@code nql_read} reads them (udfs/jvm {@link ReadRecord}): the event
 * time, a version time and a datetime field, ISO-8601 UTC as the data model writes them. */
final class RecordTime {
    static final String TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

    private RecordTime() {}

    /** A time as TO_TIMESTAMP(text, TIME_FORMAT) reads it: NULL when it cannot. */
    static TimestampData parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return DateTimeUtils.parseTimestampData(text, TIME_FORMAT);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
