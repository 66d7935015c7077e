package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.runtime.LogLine;

class LogDecoderTest {

    private final List<LogLine> lines = new ArrayList<>();
    private final LogDecoder decoder = new LogDecoder(lines::add);

    @Test
    void stripsAndParsesTheTimestampOfEachMessage() {
        decoder.accept(false, bytes("2026-11-30T12:00:00.123456789Z hello world\n"));
        decoder.accept(true, bytes("2026-11-30T12:00:01.5Z oops\r\n"));
        assertEquals(List.of(
                new LogLine(Instant.parse("2026-11-30T12:00:00.123456789Z"), false, "hello world"),
                new LogLine(Instant.parse("2026-11-30T12:00:01.5Z"), true, "oops")), lines);
    }

    @Test
    void joinsTheTimestampedPartsOfALongMessage() {
        decoder.accept(false, bytes("2026-11-30T12:00:00.000000001Z first part, "));
        decoder.accept(true, bytes("2026-11-30T12:00:00.000000002Z an error\n"));
        decoder.accept(false, bytes("2026-11-30T12:00:00.000000003Z second part\n"));
        assertEquals(List.of(
                new LogLine(Instant.parse("2026-11-30T12:00:00.000000002Z"), true, "an error"),
                new LogLine(Instant.parse("2026-11-30T12:00:00.000000001Z"), false, "first part, second part")), lines);
    }

    @Test
    void keepsTextThatMerelyLooksLikeATimestampAndFlushesTheRest() {
        decoder.accept(false, bytes("2026-11-30T12:00:00Z 2026-11-30T11:00:00Z is in the text\n"));
        decoder.accept(false, bytes("2026-11-30T12:00:02Z no newline at the end"));
        decoder.flush();
        assertEquals(List.of("2026-11-30T11:00:00Z is in the text", "no newline at the end"),
                lines.stream().map(LogLine::text).toList());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
