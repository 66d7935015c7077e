package com.ecloud.compute.store.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class StoreSettingsTest {

    @Test
    void emptyUrlMeansEmbeddedH2InTheDataDirectory() {
        StoreSettings settings = StoreSettings.of("", "", "", 10, "/var/lib/ecloud");

        assertEquals("jdbc:h2:file:/var/lib/ecloud/db/compute;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0", settings.url());
        assertEquals(StoreSettings.Engine.H2, settings.engine());
    }

    @Test
    void withoutDataDirectoryTheEmbeddedDatabaseIsUnderDotData() {
        String expected = "jdbc:h2:file:" + Path.of("data").toAbsolutePath().resolve("db").resolve("compute")
                + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0";

        assertEquals(expected, StoreSettings.of(" ", null, null, 10, null).url());
        assertEquals(expected, StoreSettings.of(null, null, null, 10, "").url());
    }

    @Test
    void configuredUrlIsUsedAsGiven() {
        StoreSettings settings = StoreSettings.of(" jdbc:postgresql://db:5432/ecloud ", "ecloud", "s3cret", 4, "/x");

        assertEquals("jdbc:postgresql://db:5432/ecloud", settings.url());
        assertEquals(StoreSettings.Engine.POSTGRESQL, settings.engine());
        assertEquals(4, settings.poolSize());
    }

    @Test
    void passwordsStayOutOfLogs() {
        StoreSettings settings = StoreSettings.of("jdbc:postgresql://db/ecloud?user=u&password=p4ss&ssl=true",
                "u", "s3cret", 10, null);

        assertEquals("jdbc:postgresql://db/ecloud?user=u&password=***&ssl=true", settings.safeUrl());
        assertFalse(settings.toString().contains("s3cret"), settings.toString());
        assertFalse(settings.toString().contains("p4ss"), settings.toString());
    }

    @Test
    void otherDatabasesAndEmptyPoolsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> StoreSettings.of("jdbc:mysql://db/x?password=p", "", "", 10, null).engine());
        assertThrows(IllegalArgumentException.class, () -> StoreSettings.of("", "", "", 0, null));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> StoreSettings.Engine.of("jdbc:mysql://db/x?password=p")).getMessage().endsWith("jdbc:mysql://db/x"));
    }
}
