package com.ecloud.compute.api.store;

/** A per-user limit would be exceeded; nothing was changed. The message says which limit. */
public class LimitExceededException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LimitExceededException(String message) {
        super(message);
    }
}
