package com.ecloud.compute.store.internal;

import java.sql.Connection;

import javax.sql.DataSource;

import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * Opens the connection pool. The pool is handed the driver's own DataSource rather than a driver class name:
 * DriverManager cannot see drivers in other bundles, a DataSource class imported by package can.
 */
final class ConnectionPools {

    /** How long a request waits for a free connection before the store reports itself unavailable. */
    private static final long CONNECTION_TIMEOUT_MS = 10_000;
    /** H2 gives up waiting for a row lock after 1 s by default: too short for a burst on one owner's lock. */
    private static final int H2_LOCK_TIMEOUT_MS = 10_000;

    private ConnectionPools() {
    }

    /**
     * A pool of read-committed, non-auto-commit connections. Fails at once when the database cannot be reached.
     */
    static HikariDataSource open(StoreSettings settings) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("ecloud-store");
        config.setDataSource(driverDataSource(settings));
        config.setMaximumPoolSize(settings.poolSize());
        config.setAutoCommit(false);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        if (settings.engine() == StoreSettings.Engine.H2) {
            config.setConnectionInitSql("SET LOCK_TIMEOUT " + H2_LOCK_TIMEOUT_MS);
        }
        return new HikariDataSource(config);
    }

    private static DataSource driverDataSource(StoreSettings settings) {
        return switch (settings.engine()) {
            case H2 -> {
                JdbcDataSource h2 = new JdbcDataSource();
                h2.setURL(settings.url());
                // H2 names its first (admin) user after whoever creates the database: give it the usual name
                h2.setUser(settings.user().isEmpty() ? "sa" : settings.user());
                h2.setPassword(settings.password());
                yield h2;
            }
            case POSTGRESQL -> {
                PGSimpleDataSource pg = new PGSimpleDataSource();
                pg.setURL(settings.url());
                if (!settings.user().isEmpty()) pg.setUser(settings.user());
                if (!settings.password().isEmpty()) pg.setPassword(settings.password());
                pg.setApplicationName("ecloud-compute");
                yield pg;
            }
        };
    }

    /** The database's product name, e.g. "H2" or "PostgreSQL". */
    static String productName(DataSource dataSource) throws java.sql.SQLException {
        try (Connection c = dataSource.getConnection()) {
            String name = c.getMetaData().getDatabaseProductName();
            c.rollback();
            return name;
        }
    }
}
