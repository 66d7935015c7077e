package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

class ApiJsonTest {

    private final ApiJson json = new ApiJson();

    private static InputStream body(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    private ApiException refused(String text) {
        return assertThrows(ApiException.class, () -> json.readBody(body(text)));
    }

    @Test
    void readsAnObjectWithoutCoercingAnything() {
        JsonNode node = json.readBody(body("{\"name\":\"web\",\"memory_mb\":\"512\",\"ssh_enabled\":true}"));
        assertEquals("web", node.get("name").asText());
        // the reader keeps types as sent: resources refuse "512" for a number themselves
        assertTrue(node.get("memory_mb").isTextual());
        assertTrue(node.get("ssh_enabled").isBoolean());
    }

    @Test
    void refusesDuplicateKeys() {
        ApiException e = refused("{\"name\":\"a\",\"name\":\"b\"}");
        assertEquals(400, e.status());
        assertTrue(e.getMessage().startsWith("malformed JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("Duplicate field 'name'"), e.getMessage());
    }

    @Test
    void refusesContentAfterTheValue() {
        ApiException e = refused("{\"name\":\"a\"} {\"name\":\"b\"}");
        assertEquals(400, e.status());
        assertEquals("malformed JSON: unexpected content after the JSON value at line 1, column 14", e.getMessage());
        assertEquals(400, refused("{\"a\":1} garbage").status());
    }

    @Test
    void refusesMalformedJsonWithAShortReasonAndNoInternals() {
        for (String text : List.of("{", "{\"a\":}", "{'a':1}", "{\"a\":1,}", "nope", "{\"a\":01}", "[1,2")) {
            ApiException e = refused(text);
            assertEquals(400, e.status(), text);
            assertTrue(e.getMessage().startsWith("malformed JSON: "), e.getMessage());
            assertFalse(e.getMessage().contains("Exception"), e.getMessage());
            assertFalse(e.getMessage().contains("Source"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().length() < 300, e.getMessage());
        }
    }

    @Test
    void refusesInvalidUtf8() {
        byte[] bytes = { '{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}' };
        ApiException e = assertThrows(ApiException.class, () -> json.readBody(new ByteArrayInputStream(bytes)));
        assertEquals(400, e.status());
    }

    @Test
    void refusesAnEmptyBody() {
        for (String text : List.of("", "   ", "\n\t ")) {
            ApiException e = refused(text);
            assertEquals(400, e.status());
            assertEquals("request body required", e.getMessage());
        }
    }

    @Test
    void refusesDeepNesting() {
        String deep = "[".repeat(ApiJson.MAX_NESTING_DEPTH + 1) + "]".repeat(ApiJson.MAX_NESTING_DEPTH + 1);
        assertEquals(400, refused(deep).status());
    }

    @Test
    void acceptsExactlyOneMebibyte() {
        assertTrue(json.readBody(body(padded(ApiJson.MAX_BODY_BYTES))).isObject());
    }

    @Test
    void refusesOneByteMoreWith413EvenWithoutContentLength() {
        // a stream of unknown length, as a chunked body is
        ApiException e = assertThrows(ApiException.class,
                () -> json.readBody(new TrickleInputStream(padded(ApiJson.MAX_BODY_BYTES + 1))));
        assertEquals(413, e.status());
        assertEquals("request body exceeds 1 MiB", e.getMessage());
    }

    @Test
    void refusesAHugeStringValueWith413() {
        // one token longer than the limit: the parser is inside a string when the limit hits
        String huge = "{\"name\":\"" + "x".repeat((int) ApiJson.MAX_BODY_BYTES) + "\"}";
        assertEquals(413, refused(huge).status());
    }

    @Test
    void aBrokenStreamIs400() {
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("Early EOF");
            }
        };
        ApiException e = assertThrows(ApiException.class, () -> json.readBody(broken));
        assertEquals(400, e.status());
        assertEquals("request body could not be read", e.getMessage());
    }

    record Sample(String id, Instant createdAt, OffsetDateTime at, Duration grace, Date legacy) {
    }

    @Test
    void writesRecordsMapsAndTimesAsIsoStrings() throws IOException {
        Instant created = Instant.parse("2024-05-01T10:00:00Z");
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("sample", new Sample("abc", created, OffsetDateTime.of(2024, 5, 1, 10, 0, 0, 0, ZoneOffset.UTC),
                Duration.ofSeconds(90), Date.from(created)));
        value.put("list", List.of(1, "two"));
        value.put("absent", null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        json.write(value, out);
        assertEquals("{\"sample\":{\"id\":\"abc\",\"createdAt\":\"2024-05-01T10:00:00Z\","
                + "\"at\":\"2024-05-01T10:00:00Z\",\"grace\":\"PT1M30S\",\"legacy\":\"2024-05-01T10:00:00.000+00:00\"},"
                + "\"list\":[1,\"two\"],\"absent\":null}", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void writingLeavesTheStreamOpen() throws IOException {
        boolean[] closed = { false };
        ByteArrayOutputStream out = new ByteArrayOutputStream() {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        json.write(Map.of("a", 1), out);
        assertFalse(closed[0]);
    }

    /** {"p":"xxx..."} of exactly {@code size} bytes. */
    static String padded(long size) {
        return "{\"p\":\"" + "x".repeat((int) size - 8) + "\"}";
    }

    /** Hands out a few bytes at a time and never says how many remain. */
    static final class TrickleInputStream extends InputStream {
        private final byte[] bytes;
        private int position;

        TrickleInputStream(String text) {
            this.bytes = text.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int read() {
            return position < bytes.length ? bytes[position++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= bytes.length) return -1;
            int n = Math.min(Math.min(len, 4096), bytes.length - position);
            System.arraycopy(bytes, position, b, off, n);
            position += n;
            return n;
        }
    }
}
