package com.ecloud.compute.core.internal.http;

import java.io.IOException;

/**
 * A request body grew past {@link ApiJson#MAX_BODY_BYTES} while it was read. An {@link IOException}, because it
 * comes out of a stream; the error mapper finds it however Jersey wraps it and answers 413.
 */
public class BodyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    public BodyTooLargeException(long limit) {
        super("request body exceeds " + limit + " bytes");
    }
}
