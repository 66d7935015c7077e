package com.ecloud.compute.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

import com.zaxxer.hikari.HikariDataSource;

/** A freshly created, empty database for one test class, opened as the Database component opens it. */
abstract class TestDatabase implements AutoCloseable {

    /** The pool, opened with the component's own settings and pool code; the schema is not migrated yet. */
    abstract HikariDataSource pool();

    /** An embedded H2 file database in a new temporary directory (the component's default URL shape). */
    static TestDatabase h2() throws IOException {
        Path dataDir = Files.createTempDirectory("ecloud-store-test");
        HikariDataSource pool = ConnectionPools.open(StoreSettings.of("", "", "", 10, dataDir.toString()));
        return new TestDatabase() {
            @Override
            HikariDataSource pool() {
                return pool;
            }

            @Override
            public void close() throws IOException {
                pool.close();
                try (Stream<Path> files = Files.walk(dataDir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
        };
    }

    /**
     * A new schema in the PostgreSQL database of ECLOUD_TEST_POSTGRES_URL, made the connections' current schema,
     * dropped on close. Skips the tests when that variable is not set, unless ECLOUD_REQUIRE_ENGINES=true.
     */
    static TestDatabase postgres() throws SQLException {
        String url = System.getenv("ECLOUD_TEST_POSTGRES_URL");
        if (url == null || url.isBlank()) {
            String message = "ECLOUD_TEST_POSTGRES_URL is not set: no PostgreSQL to test against";
            if ("true".equalsIgnoreCase(System.getenv("ECLOUD_REQUIRE_ENGINES"))) Assertions.fail(message);
            Assumptions.abort(message);
        }
        String user = envOrEmpty("ECLOUD_TEST_POSTGRES_USER");
        String password = envOrEmpty("ECLOUD_TEST_POSTGRES_PASSWORD");
        String schema = "store_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

        PGSimpleDataSource admin = new PGSimpleDataSource();
        admin.setURL(url);
        if (!user.isEmpty()) admin.setUser(user);
        if (!password.isEmpty()) admin.setPassword(password);
        execute(admin, "CREATE SCHEMA " + schema);

        String schemaUrl = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        HikariDataSource pool = ConnectionPools.open(StoreSettings.of(schemaUrl, user, password, 10, null));
        return new TestDatabase() {
            @Override
            HikariDataSource pool() {
                return pool;
            }

            @Override
            public void close() throws SQLException {
                pool.close();
                execute(admin, "DROP SCHEMA " + schema + " CASCADE");
            }
        };
    }

    private static String envOrEmpty(String name) {
        String value = System.getenv(name);
        return value == null ? "" : value;
    }

    static void execute(DataSource dataSource, String... statements) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            for (String sql : statements) statement.execute(sql);
            if (!connection.getAutoCommit()) connection.commit();
        }
    }
}
