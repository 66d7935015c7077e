package com.ecloud.compute.core.internal.rest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.ecloud.compute.core.internal.http.ApiException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Strict reading of request fields: a field of the wrong JSON type is a 400 (no coercion of "8080" to 8080 or
 * "true" to true); {@code null} means absent; unknown fields are ignored.
 */
final class JsonFields {

    private JsonFields() {
    }

    static JsonNode object(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.badRequest("request body must be a JSON object");
        return body;
    }

    private static Optional<JsonNode> field(JsonNode body, String name) {
        JsonNode v = body.get(name);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
    }

    static Optional<String> string(JsonNode body, String name) {
        return field(body, name).map(v -> {
            if (!v.isTextual()) throw ApiException.badRequest(name + " must be a string");
            return v.textValue();
        });
    }

    static String requiredString(JsonNode body, String name) {
        return string(body, name).orElseThrow(() -> ApiException.badRequest(name + " is required"));
    }

    static Optional<Integer> integer(JsonNode body, String name) {
        return field(body, name).map(v -> {
            if (!v.isIntegralNumber()) throw ApiException.badRequest(name + " must be an integer");
            if (!v.canConvertToInt()) throw ApiException.unprocessable(name + " is out of range");
            return v.intValue();
        });
    }

    static Optional<Boolean> bool(JsonNode body, String name) {
        return field(body, name).map(v -> {
            if (!v.isBoolean()) throw ApiException.badRequest(name + " must be true or false");
            return v.booleanValue();
        });
    }

    static Optional<List<String>> strings(JsonNode body, String name) {
        return field(body, name).map(v -> {
            if (!v.isArray()) throw ApiException.badRequest(name + " must be an array of strings");
            List<String> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual()) throw ApiException.badRequest(name + " must be an array of strings");
                out.add(e.textValue());
            }
            return out;
        });
    }

    static Optional<List<Long>> longs(JsonNode body, String name) {
        return field(body, name).map(v -> {
            if (!v.isArray()) throw ApiException.badRequest(name + " must be an array of integers");
            List<Long> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isIntegralNumber() || !e.canConvertToLong()) {
                    throw ApiException.badRequest(name + " must be an array of integers");
                }
                out.add(e.longValue());
            }
            return out;
        });
    }
}
