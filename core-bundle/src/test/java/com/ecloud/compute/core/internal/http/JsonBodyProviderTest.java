package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.StreamingOutput;

class JsonBodyProviderTest {

    private static final Annotation[] NONE = {};

    private final JsonBodyProvider provider = new JsonBodyProvider(new ApiJson());

    private JsonNode read(String mediaType, String body) throws IOException {
        MultivaluedHashMap<String, String> headers = new MultivaluedHashMap<>();
        if (mediaType != null) headers.putSingle("Content-Type", mediaType);
        // Jersey hands readers application/octet-stream when no Content-Type was sent
        MediaType type = mediaType == null ? MediaType.APPLICATION_OCTET_STREAM_TYPE : MediaType.valueOf(mediaType);
        InputStream in = new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
        return provider.readFrom(JsonNode.class, JsonNode.class, NONE, type, headers, in);
    }

    private ApiException refused(String mediaType, String body) {
        return assertThrows(ApiException.class, () -> read(mediaType, body));
    }

    @Test
    void claimsJsonNodeForEveryMediaTypeSoThatTheRefusalIsOurs() {
        assertTrue(provider.isReadable(JsonNode.class, JsonNode.class, NONE, MediaType.APPLICATION_JSON_TYPE));
        assertTrue(provider.isReadable(JsonNode.class, JsonNode.class, NONE, MediaType.TEXT_PLAIN_TYPE));
        assertTrue(provider.isReadable(ObjectNode.class, ObjectNode.class, NONE, MediaType.APPLICATION_JSON_TYPE));
        assertFalse(provider.isReadable(Map.class, Map.class, NONE, MediaType.APPLICATION_JSON_TYPE));
        assertFalse(provider.isReadable(String.class, String.class, NONE, MediaType.APPLICATION_JSON_TYPE));
    }

    @Test
    void readsApplicationJsonWithOrWithoutCharset() throws IOException {
        assertEquals(1, read("application/json", "{\"a\":1}").get("a").asInt());
        assertEquals(1, read("application/json; charset=UTF-8", "{\"a\":1}").get("a").asInt());
        assertEquals(1, read("Application/JSON;charset=utf-8", "{\"a\":1}").get("a").asInt());
    }

    @Test
    void anotherMediaTypeIs415() {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml",
                "application/merge-patch+json")) {
            ApiException e = refused(type, "{\"a\":1}");
            assertEquals(415, e.status(), type);
            assertEquals("request body must be sent as application/json", e.getMessage());
        }
        assertEquals(415, refused(null, "{\"a\":1}").status());
    }

    @Test
    void aCharsetOtherThanUtf8Is415() {
        assertEquals(415, refused("application/json; charset=ISO-8859-1", "{\"a\":1}").status());
    }

    @Test
    void nothingSentIs400NotA415() {
        ApiException e = refused(null, "");
        assertEquals(400, e.status());
        assertEquals("request body required", e.getMessage());
        assertEquals(400, refused("application/json", "").status());
    }

    @Test
    void malformedAndDuplicateAre400() {
        assertEquals(400, refused("application/json", "{\"a\":1,\"a\":2}").status());
        assertEquals(400, refused("application/json", "{\"a\":").status());
    }

    @Test
    void anObjectNodeParameterRequiresAnObject() throws IOException {
        MultivaluedHashMap<String, String> headers = new MultivaluedHashMap<>();
        headers.putSingle("Content-Type", "application/json");
        @SuppressWarnings({ "unchecked", "rawtypes" })
        Class<JsonNode> objectNode = (Class) ObjectNode.class;
        ApiException e = assertThrows(ApiException.class, () -> provider.readFrom(objectNode, objectNode, NONE,
                MediaType.APPLICATION_JSON_TYPE, headers, new ByteArrayInputStream("[1]".getBytes())));
        assertEquals(400, e.status());
    }

    @Test
    void writesObjectsButLeavesVerbatimTypesToJersey() throws IOException {
        MediaType json = MediaType.APPLICATION_JSON_TYPE;
        assertTrue(provider.isWriteable(Map.class, Map.class, NONE, json));
        assertTrue(provider.isWriteable(List.class, List.class, NONE, json));
        assertTrue(provider.isWriteable(ObjectNode.class, ObjectNode.class, NONE, json));
        assertTrue(provider.isWriteable(ApiJsonTest.Sample.class, ApiJsonTest.Sample.class, NONE,
                MediaType.valueOf("application/json;charset=utf-8")));
        assertFalse(provider.isWriteable(String.class, String.class, NONE, json));
        assertFalse(provider.isWriteable(byte[].class, byte[].class, NONE, json));
        assertFalse(provider.isWriteable(StreamingOutput.class, StreamingOutput.class, NONE, json));
        assertFalse(provider.isWriteable(Map.class, Map.class, NONE, MediaType.TEXT_PLAIN_TYPE));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        provider.writeTo(Map.of("status", "ok"), Map.class, Map.class, NONE, json, new MultivaluedHashMap<>(), out);
        assertEquals("{\"status\":\"ok\"}", out.toString(StandardCharsets.UTF_8));
    }
}
