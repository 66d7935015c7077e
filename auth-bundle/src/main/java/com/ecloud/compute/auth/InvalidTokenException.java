package com.ecloud.compute.auth;

/** A token that must be refused with 401. The message is safe to return to the client. */
public class InvalidTokenException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidTokenException(String message) {
        super(message);
    }
}
