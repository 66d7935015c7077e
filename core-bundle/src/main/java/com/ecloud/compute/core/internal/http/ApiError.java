package com.ecloud.compute.core.internal.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * One error answer of the API: {@code {"error": "..."}}, plus {@code "error_id"} for 5xx (the id is also in the
 * log, next to the stack trace). The body is built here as text, so an error can be answered even when the JSON
 * writer is not (yet) registered with the whiteboard.
 *
 * @param status  HTTP status, 4xx or 5xx
 * @param message what is wrong, safe to show to the client
 * @param errorId for 5xx, the id to look up in the log; null for 4xx
 * @param headers extra response headers (e.g. {@code Allow} on 405)
 */
public record ApiError(int status, String message, String errorId, Map<String, String> headers) {

    private static final String ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    public ApiError {
        Objects.requireNonNull(message, "message");
        headers = Map.copyOf(headers);
    }

    /** A 4xx answer. */
    public static ApiError client(int status, String message) {
        return new ApiError(status, message, null, Map.of());
    }

    /** A 5xx answer with a fresh error id; the caller logs the id. */
    public static ApiError server(int status, String message) {
        return new ApiError(status, message, newErrorId(), Map.of());
    }

    /** The answer to a refusal the code wrote for the client; 5xx get an id. */
    public static ApiError from(ApiException e) {
        String message = e.getMessage() == null || e.getMessage().isBlank() ? defaultMessage(e.status()) : e.getMessage();
        return e.status() >= 500 ? server(e.status(), message) : client(e.status(), message);
    }

    /** This error with one more response header. */
    public ApiError withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new ApiError(status, message, errorId, more);
    }

    /** The response body. */
    public String json() {
        JsonStringEncoder encoder = JsonStringEncoder.getInstance();
        StringBuilder json = new StringBuilder(48 + message.length()).append("{\"error\":\"");
        encoder.quoteAsString(message, json);
        json.append('"');
        if (errorId != null) json.append(",\"error_id\":\"").append(errorId).append('"');
        return json.append('}').toString();
    }

    /** The JAX-RS response: this status, {@code application/json}, the body and the extra headers. */
    public Response toResponse() {
        Response.ResponseBuilder response = Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(json());
        headers.forEach(response::header);
        return response.build();
    }

    /**
     * 12 random characters of [a-z0-9]: short enough to quote, long enough never to repeat in a log. They only
     * need to be unique, not unpredictable: they grant nothing.
     */
    static String newErrorId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] id = new char[12];
        for (int i = 0; i < id.length; i++) id[i] = ID_ALPHABET.charAt(random.nextInt(ID_ALPHABET.length()));
        return new String(id);
    }

    /** What to say for a status when nothing more specific is known. */
    public static String defaultMessage(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 401 -> "missing bearer token";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 406 -> "not acceptable: responses are application/json";
            case 408 -> "request timeout";
            case 409 -> "conflict";
            case 411 -> "Content-Length required";
            case 413 -> "request body exceeds 1 MiB";
            case 414 -> "request URI too long";
            case 415 -> "request body must be sent as application/json";
            case 422 -> "unprocessable request";
            case 429 -> "too many requests";
            case 431 -> "request header fields too large";
            case 500 -> "internal error";
            case 501 -> "not implemented";
            case 502, 503, 504 -> "service unavailable";
            default -> status >= 500 ? "internal error" : "bad request";
        };
    }
}
