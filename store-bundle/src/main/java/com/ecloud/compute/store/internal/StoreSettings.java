package com.ecloud.compute.store.internal;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * How to reach the database: the configured values with the defaults filled in.
 *
 * @param url      JDBC URL of H2 ({@code jdbc:h2:}) or PostgreSQL ({@code jdbc:postgresql:})
 * @param user     user name; empty for none
 * @param password password; empty for none. Never logged ({@link #toString()} leaves it out)
 * @param poolSize most connections the pool keeps open
 */
record StoreSettings(String url, String user, String password, int poolSize) {

    /** Used when the framework property {@code ecloud.data} is not set. */
    static final String DEFAULT_DATA_DIR = "./data";

    StoreSettings {
        Objects.requireNonNull(url, "url");
        user = user == null ? "" : user;
        password = password == null ? "" : password;
        if (poolSize < 1) throw new IllegalArgumentException("pool.size must be at least 1, not " + poolSize);
    }

    /**
     * The settings of a configuration; an empty URL means the embedded H2 database under {@code dataDir}
     * ({@code null} or blank: {@value #DEFAULT_DATA_DIR}).
     */
    static StoreSettings of(String url, String user, String password, int poolSize, String dataDir) {
        String effectiveUrl = url == null || url.isBlank() ? embeddedUrl(dataDir) : url.trim();
        return new StoreSettings(effectiveUrl, user, password, poolSize);
    }

    /** The embedded database file {@code <dataDir>/db/compute}; absolute because H2 refuses bare relative paths. */
    static String embeddedUrl(String dataDir) {
        String dir = dataDir == null || dataDir.isBlank() ? DEFAULT_DATA_DIR : dataDir.trim();
        Path file = Path.of(dir).toAbsolutePath().normalize().resolve("db").resolve("compute");
        // H2 closes the database when our pool closes; its own shutdown hook would race with deactivation.
        // WRITE_DELAY=0: a commit reaches the file before it returns (the default 500 ms loses acknowledged
        // writes when the process is killed)
        return "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";
    }

    Engine engine() {
        return Engine.of(url);
    }

    /** The URL with any password parameter masked, for logs. */
    String safeUrl() {
        return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
    }

    @Override
    public String toString() {
        return "StoreSettings[url=" + safeUrl() + ", user=" + user + ", poolSize=" + poolSize + "]";
    }

    /** The databases the store runs on. */
    enum Engine {
        H2, POSTGRESQL;

        static Engine of(String url) {
            String lower = url.toLowerCase(Locale.ROOT);
            if (lower.startsWith("jdbc:h2:")) return H2;
            if (lower.startsWith("jdbc:postgresql:")) return POSTGRESQL;
            throw new IllegalArgumentException(
                    "unsupported jdbc.url (only jdbc:h2: and jdbc:postgresql: are supported): " + url.replaceAll("[?;].*", ""));
        }
    }
}
