package com.ecloud.compute.core.internal.ws.streams;

import java.util.Optional;

/**
 * Which stream a path names: {@code /compute/containers/<id>/logs} or {@code /compute/containers/<id>/terminal},
 * exactly; anything else (the REST routes under the same prefix) is not a stream.
 *
 * @param containerId the id as written in the path (validated against the store later)
 * @param kind        logs or terminal
 */
record StreamRequest(String containerId, Kind kind) {

    enum Kind {
        LOGS("logs", "read"), TERMINAL("terminal", "update");

        final String segment;
        /** The action the caller's token needs on {@code compute.<uid>.containers.<id>}. */
        final String action;

        Kind(String segment, String action) {
            this.segment = segment;
            this.action = action;
        }
    }

    static final String PREFIX = "/compute/containers/";

    /** @param path the request path below the context path, without the query string */
    static Optional<StreamRequest> parse(String path) {
        if (path == null || !path.startsWith(PREFIX)) return Optional.empty();
        String rest = path.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) return Optional.empty();
        String id = rest.substring(0, slash);
        String tail = rest.substring(slash + 1);
        for (Kind k : Kind.values()) {
            if (k.segment.equals(tail)) return Optional.of(new StreamRequest(id, k));
        }
        return Optional.empty();
    }

    /**
     * The {@code tail} query parameter: {@code defaultTail} when absent, else an integer in 0..max.
     *
     * @throws IllegalArgumentException a value that is not such an integer, with a message for the client
     */
    static int tail(String[] values, int defaultTail, int max) {
        if (values == null || values.length == 0) return defaultTail;
        if (values.length > 1) throw new IllegalArgumentException("tail given more than once");
        String v = values[0] == null ? "" : values[0].strip();
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tail must be an integer from 0 to " + max);
        }
        if (n < 0 || n > max) throw new IllegalArgumentException("tail must be an integer from 0 to " + max);
        return n;
    }
}
