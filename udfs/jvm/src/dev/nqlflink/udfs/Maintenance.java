package dev.nqlflink.udfs;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.TextStyle;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * One version of a maintenance window or silence (docs/processing.md), as its record on the
 * maintenance topic has it, and whether it mutes an alert at an instant:
 *
 * <pre>
 * {"tenant": "acme", "id": "db-upgrade", "updated_at": "2026-11-26T09:00:00.000Z",
 *  "monitors": ["vdi_latency"], "tags": ["VDI"], "group": {"device.virtualization.desktop_pool": "Finance-Win11"},
 *  "start": "2026-11-26T11:00:00", "end": "2026-11-26T13:00:00", "time_zone": "Europe/Paris",
 *  "repeat": "daily" | "weekly", "days": ["mon", "tue"], "until": "2026-12-31T00:00:00", "deleted": false}
 * </pre>
 *
 * {@code start}, {@code end} and {@code until} are local date-times in {@code time_zone}
 * (default UTC; a time with an offset or Z is that instant). A recurring window repeats the
 * local times from {@code start} to {@code end} every day (daily) or on {@code days} (weekly;
 * default: the start's weekday) from the start's date, occurrences starting before
 * {@code until}; a local time a DST gap skips is moved forward by the gap. Matching: every
 * listed monitor id (none listed: all), tag (all must be the monitor's) and group value (each
 * must equal the group's) must hold.
 */
final class Maintenance {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    final String id;
    final boolean deleted;
    private final JsonNode node;
    private final ZoneId zone;
    private final LocalDateTime start;
    private final LocalDateTime end;
    private final LocalDateTime until;
    private final String repeat;
    private final Set<DayOfWeek> days = new HashSet<>();

    /** The window of a record, or null when the record is not one (no id, bad times or zone). */
    static Maintenance parse(String record) {
        try {
            return new Maintenance(MAPPER.readTree(record));
        } catch (Exception e) {
            return null;
        }
    }

    private Maintenance(JsonNode n) {
        node = n;
        id = n.path("id").asText(null);
        if (id == null) {
            throw new IllegalArgumentException("no id");
        }
        deleted = n.path("deleted").asBoolean(false);
        zone = n.hasNonNull("time_zone") ? ZoneId.of(n.get("time_zone").asText()) : ZoneOffset.UTC;
        start = deleted ? null : local(n.path("start").asText(null));
        end = deleted ? null : local(n.path("end").asText(null));
        until = n.hasNonNull("until") ? local(n.get("until").asText()) : null;
        repeat = n.path("repeat").asText("");
        if (!deleted && (!end.isAfter(start) || !(repeat.isEmpty() || "daily".equals(repeat) || "weekly".equals(repeat)))) {
            throw new IllegalArgumentException("bad window");
        }
        for (JsonNode d : n.path("days")) {
            days.add(day(d.asText()));
        }
        if (days.isEmpty() && start != null) {
            days.add(start.getDayOfWeek());
        }
    }

    private LocalDateTime local(String text) {
        if (text.endsWith("Z") || text.matches(".*[+-]\\d\\d:\\d\\d$")) {
            return OffsetDateTime.parse(text).atZoneSameInstant(zone).toLocalDateTime();
        }
        return LocalDateTime.parse(text);
    }

    private static DayOfWeek day(String text) {
        for (DayOfWeek d : DayOfWeek.values()) {
            if (d.getDisplayName(TextStyle.SHORT, Locale.ROOT).equalsIgnoreCase(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException("bad day " + text);
    }

    /** Whether the window mutes the alert of this monitor, tags and group at {@code ms}. */
    boolean mutes(String monitor, JsonNode tags, JsonNode group, long ms) {
        if (deleted) {
            return false;
        }
        JsonNode monitors = node.path("monitors");
        if (monitors.size() > 0 && !contains(monitors, monitor)) {
            return false;
        }
        for (JsonNode tag : node.path("tags")) {
            if (!contains(tags, tag.asText())) {
                return false;
            }
        }
        var fields = node.path("group").fields();
        while (fields.hasNext()) {
            var f = fields.next();
            JsonNode value = group.get(f.getKey());
            if (value == null || !value.asText().equals(f.getValue().asText())) {
                return false;
            }
        }
        return active(ms);
    }

    private static boolean contains(JsonNode array, String text) {
        for (JsonNode x : array) {
            if (x.asText().equals(text)) {
                return true;
            }
        }
        return false;
    }

    private boolean active(long ms) {
        if (repeat.isEmpty()) {
            return instant(start) <= ms && ms < instant(end);
        }
        Duration length = Duration.between(start, end);
        LocalDate today = java.time.Instant.ofEpochMilli(ms).atZone(zone).toLocalDate();
        for (LocalDate d = today.minusDays(length.toDays() + 1); !d.isAfter(today); d = d.plusDays(1)) {
            if (d.isBefore(start.toLocalDate()) || ("weekly".equals(repeat) && !days.contains(d.getDayOfWeek()))) {
                continue;
            }
            LocalDateTime from = d.atTime(start.toLocalTime());
            if (until != null && !from.isBefore(until)) {
                continue;
            }
            if (instant(from) <= ms && ms < instant(from.plus(length))) {
                return true;
            }
        }
        return false;
    }

    private long instant(LocalDateTime t) {
        return t.atZone(zone).toInstant().toEpochMilli();
    }

    static JsonNode read(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            return MAPPER.createObjectNode();
        }
    }
}
