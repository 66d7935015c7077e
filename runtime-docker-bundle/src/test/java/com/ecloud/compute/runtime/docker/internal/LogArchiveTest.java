package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.ecloud.compute.api.runtime.LogLine;

class LogArchiveTest {

    @TempDir
    Path dir;

    private static LogLine line(int n, boolean stderr, String text) {
        return new LogLine(Instant.parse("2026-11-30T12:00:00.000000001Z").plusMillis(n), stderr, text);
    }

    @Test
    void keepsLinesInOrderAcrossAppendsWithTheirStreamAndTimestamp() throws Exception {
        LogArchive archive = new LogArchive(dir.resolve("logs"), 1 << 20);
        assertFalse(archive.has("abc"));
        assertEquals(List.of(), archive.tail("abc", 10));
        archive.append("abc", List.of(line(1, false, "one"), line(2, true, "two: with  spaces ")));
        archive.append("abc", List.of(line(3, false, ""), line(4, false, "ünïcödé \r inside")));
        assertTrue(archive.has("abc"));
        List<LogLine> expected = List.of(line(1, false, "one"), line(2, true, "two: with  spaces "),
                line(3, false, ""), line(4, false, "ünïcödé \r inside"));
        assertEquals(expected, archive.tail("abc", -1));
        assertEquals(expected, archive.tail("abc", 100));
        assertEquals(expected.subList(1, 4), archive.tail("abc", 3));
        assertEquals(expected.subList(3, 4), archive.tail("abc", 1));
        assertEquals(List.of(), archive.tail("abc", 0));
        archive.delete("abc");
        assertFalse(archive.has("abc"));
        archive.delete("abc"); // idempotent
    }

    @Test
    void dropsTheOldestLinesPastItsCap() throws Exception {
        LogArchive archive = new LogArchive(dir, 10_000);
        List<LogLine> lines = new ArrayList<>();
        for (int i = 0; i < 1000; i++) lines.add(line(i, false, "line " + i));
        archive.append("cap", lines);
        assertTrue(Files.size(archive.file("cap")) <= 10_000);
        List<LogLine> kept = archive.tail("cap", -1);
        assertEquals("line 999", kept.get(kept.size() - 1).text());
        assertTrue(kept.size() > 100, "most of the cap still used: " + kept.size());
        for (int i = 1; i < kept.size(); i++) {
            assertEquals(kept.get(i - 1).timestamp().plusMillis(1), kept.get(i).timestamp(), "no line cut or lost");
        }
    }

    @Test
    void skipsALineCutShortByACrash() throws Exception {
        LogArchive archive = new LogArchive(dir, 1 << 20);
        archive.append("cut", List.of(line(1, false, "whole")));
        Files.write(archive.file("cut"), "2026-11-30T12:0".getBytes(StandardCharsets.US_ASCII),
                java.nio.file.StandardOpenOption.APPEND);
        archive.append("cut", List.of(line(2, false, "next")));
        assertEquals(List.of("whole", "next"), archive.tail("cut", -1).stream().map(LogLine::text).toList());
    }
}
