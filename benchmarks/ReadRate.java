import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.binary.BinaryStringData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.utils.LogicalTypeParser;
import org.apache.flink.util.Collector;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lines per CPU-second through {@code nql_read} alone (udfs/jvm ReadRecord), for several builds
 * of it in one JVM, against Flink's own JSON format decoding the same fields of the same lines
 * (benchmarks/read_rate.py runs it; a micro-figure for issue 15, next to job_cost.py's whole
 * jobs). Each build is loaded from its own jar in its own class loader; each line goes through
 * {@code eval} twice, as the generated source's Calc calls it (the record and the rowtime, the
 * second answered from the function's last-line cache). The sides alternate pass by pass after
 * untimed warm-up passes; the time is the CPU time of this thread (the machine is shared).
 *
 * <p>Arguments: {@code <lines file> <schema literal> <JSON format row type> <warm-up passes>
 * <timed passes> <name>=<jar>...}. Output: one JSON object, name -> CPU seconds of each pass,
 * and the lines and reasons counted; it exits 1 when two builds read a line differently.
 */
public class ReadRate {
    interface Side {
        void pass() throws Throwable;
    }

    public static void main(String[] args) throws Throwable {
        List<byte[]> raw = lines(Files.readAllBytes(Paths.get(args[0])));
        String schema = args[1];
        int warmup = Integer.parseInt(args[3]);
        int passes = Integer.parseInt(args[4]);
        StringData[] data = new StringData[raw.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = BinaryStringData.fromBytes(raw.get(i));
        }

        Map<String, Side> sides = new LinkedHashMap<>();
        Map<String, MethodHandle> reads = new LinkedHashMap<>();
        for (int i = 5; i < args.length; i++) {
            String name = args[i].substring(0, args[i].indexOf('='));
            URL jar = Paths.get(args[i].substring(name.length() + 1)).toUri().toURL();
            ClassLoader loader = new URLClassLoader(new URL[] {jar}, ReadRate.class.getClassLoader());
            Class<?> cls = Class.forName("dev.nqlflink.udfs.ReadRecord", true, loader);
            MethodHandle eval = MethodHandles.publicLookup()
                    .findVirtual(cls, "eval", MethodType.methodType(RowData.class, StringData.class, String.class))
                    .bindTo(cls.getDeclaredConstructor().newInstance());
            reads.put(name, eval);
            sides.put(name, () -> {
                for (StringData line : data) {
                    RowData row = (RowData) eval.invokeExact(line, schema);
                    RowData again = (RowData) eval.invokeExact(line, schema);
                    if (row.getArity() != again.getArity()) {
                        throw new AssertionError();
                    }
                }
            });
        }

        RowType type = (RowType) LogicalTypeParser.parse(args[2], ReadRate.class.getClassLoader());
        JsonParserRowDataDeserializationSchema format = new JsonParserRowDataDeserializationSchema(
                type, InternalTypeInfo.of(type), false, false, TimestampFormat.ISO_8601);
        format.open(null);
        Counter out = new Counter();
        sides.put("json_format", () -> {
            for (byte[] line : raw) {
                format.deserialize(line, out);
            }
        });

        Map<String, Integer> reasons = check(data, schema, reads);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        List<String> order = new ArrayList<>(sides.keySet());
        for (int pass = 0; pass < warmup + passes; pass++) {
            for (int k = 0; k < order.size(); k++) {
                String name = order.get((pass + k) % order.size());  // a different side first each pass
                long t0 = cpu.getCurrentThreadCpuTime();
                sides.get(name).pass();
                double s = (cpu.getCurrentThreadCpuTime() - t0) / 1e9;
                if (pass >= warmup) {
                    seconds.computeIfAbsent(name, x -> new ArrayList<>()).add(s);
                }
            }
        }
        StringBuilder json = new StringBuilder("{\"lines\": " + data.length + ", \"json_format_rows\": "
                + out.rows / Math.max(1, warmup + passes) + ", \"reasons\": {");
        reasons.forEach((r, n) -> json.append('"').append(r).append("\": ").append(n).append(", "));
        json.setLength(json.length() - (reasons.isEmpty() ? 0 : 2));
        json.append("}, \"cpu_seconds\": {");
        seconds.forEach((name, s) -> json.append('"').append(name).append("\": ").append(s).append(", "));
        json.setLength(json.length() - 2);
        System.out.println(json.append("}}"));
    }

    /** Every build reads every line alike (else exit 1); the first reason of each line, counted. */
    static Map<String, Integer> check(StringData[] data, String schema, Map<String, MethodHandle> reads)
            throws Throwable {
        Map<String, Integer> reasons = new LinkedHashMap<>();
        for (StringData line : data) {
            RowData first = null;
            for (Map.Entry<String, MethodHandle> e : reads.entrySet()) {
                RowData row = (RowData) e.getValue().invokeExact(line, schema);
                if (first == null) {
                    first = row;
                    String r = row.isNullAt(0) ? "ok" : row.getString(0).toString();
                    reasons.merge(r, 1, Integer::sum);
                } else if (!first.equals(row)) {
                    System.err.println("the builds read a line differently: " + line + "\n  " + first + "\n  " + row);
                    System.exit(1);
                }
            }
        }
        return reasons;
    }

    static List<byte[]> lines(byte[] file) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= file.length; i++) {
            if (i == file.length || file[i] == '\n') {
                if (i > start) {
                    out.add(Arrays.copyOfRange(file, start, i));
                }
                start = i + 1;
            }
        }
        return out;
    }

    static final class Counter implements Collector<RowData> {
        long rows;

        @Override
        public void collect(RowData row) {
            rows++;
        }

        @Override
        public void close() {}
    }
}
