package com.ecloud.compute.core.internal.http;

/**
 * A request the API refuses, with the HTTP status and a message for the client. Resources throw it; the
 * exception mapper turns it into {@code {"error": message}}.
 */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiException badRequest(String message) { return new ApiException(400, message); }
    public static ApiException forbidden(String message) { return new ApiException(403, message); }
    public static ApiException notFound(String message) { return new ApiException(404, message); }
    public static ApiException conflict(String message) { return new ApiException(409, message); }
    public static ApiException unprocessable(String message) { return new ApiException(422, message); }
    public static ApiException unavailable(String message) { return new ApiException(503, message); }
}
