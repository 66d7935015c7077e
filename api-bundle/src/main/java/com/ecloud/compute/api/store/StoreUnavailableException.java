package com.ecloud.compute.api.store;

/** The database cannot be reached or keeps failing; the request may be retried later. */
public class StoreUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
