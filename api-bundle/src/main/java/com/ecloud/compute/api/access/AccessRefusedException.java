package com.ecloud.compute.api.access;

/** A gateway may not reach the container now; the message says why, in words for its user. */
public class AccessRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AccessRefusedException(String message) {
        super(message);
    }
}
