package com.ecloud.compute.api.store;

/** The change conflicts with what is stored (a duplicate, a missing reference); nothing was changed. */
public class ConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }
}
