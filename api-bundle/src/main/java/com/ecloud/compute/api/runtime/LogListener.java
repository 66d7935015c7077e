package com.ecloud.compute.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives a log stream. */
@ConsumerType
public interface LogListener {

    /** One line; called in log order. */
    void onLine(LogLine line);

    /** The stream ended: the container stopped (error null), it was closed, or reading failed (error set). */
    void onEnd(Throwable error);
}
