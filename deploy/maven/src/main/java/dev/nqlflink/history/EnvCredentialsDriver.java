package dev.nqlflink.history;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL driver, with the credentials of the alert history sink read from the
 * environment of the JVM that connects (docs/history.md).
 *
 * <p>The generated sink table names this class as its JDBC 'driver' and gives 'username' =
 * '${env:NQL_HISTORY_USER}' and 'password' = '${env:NQL_HISTORY_PASSWORD}': references, as the
 * Kafka tables reference their secrets through Kafka's config providers, never values. Flink's
 * JDBC connector passes them to the driver as they are; this driver replaces each
 * {@code ${env:NAME}} by the variable NAME of its own process (a TaskManager, the embedded
 * mini-cluster) when a connection opens, so no password is ever in the SQL, the compiled plan
 * or a file. A value that is not a reference is used as it is (Managed Flink's driver fills
 * the values in from runtime properties). Everything else is org.postgresql.Driver's.
 */
public final class EnvCredentialsDriver implements Driver {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    private final Driver postgres = new org.postgresql.Driver();

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        Properties resolved = new Properties();
        if (info != null) {
            for (String key : info.stringPropertyNames()) {
                resolved.setProperty(key, resolve(key, info.getProperty(key)));
            }
        }
        return postgres.connect(url, resolved);
    }

    /** The value, or the environment variable it references; a missing variable is an error that names it. */
    static String resolve(String key, String value) throws SQLException {
        Matcher m = REFERENCE.matcher(value);
        if (!m.matches()) {
            return value;
        }
        String found = System.getenv(m.group(1));
        if (found == null || found.isEmpty()) {
            throw new SQLException("alert history: the environment variable " + m.group(1) + " (the JDBC '" + key
                    + "') is not set in this Flink process; set it where the job runs (docs/history.md)", "28000");
        }
        return found;
    }

    @Override
    public boolean acceptsURL(String url) throws SQLException {
        return postgres.acceptsURL(url);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        return postgres.getPropertyInfo(url, info);
    }

    @Override
    public int getMajorVersion() {
        return postgres.getMajorVersion();
    }

    @Override
    public int getMinorVersion() {
        return postgres.getMinorVersion();
    }

    @Override
    public boolean jdbcCompliant() {
        return postgres.jdbcCompliant();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return postgres.getParentLogger();
    }
}
