package com.ecloud.compute.core.internal.ws;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Limits of {@code /compute/ws}. PID {@value #PID}; in a {@code .cfg} file the keys are spelled with dots
 * ({@code max.sockets.per.user=16}).
 */
@ObjectClassDefinition(name = "ecloud compute status stream")
public @interface StatusStreamConfig {

    String PID = "com.ecloud.compute.core.internal.ws.StatusStreamServlet";

    @AttributeDefinition(description = "Messages waiting for one slow client before the server closes it (1008)")
    int queue_capacity() default 256;

    @AttributeDefinition(description = "Seconds between server pings on every socket (keeps proxies from idling it out)")
    int ping_interval_seconds() default 30;

    @AttributeDefinition(description = "Seconds without a pong (or any frame) from a client before the server closes "
            + "it as stalled (1008); at least two ping intervals")
    int pong_timeout_seconds() default 75;

    @AttributeDefinition(description = "Largest incoming message in bytes")
    int max_message_bytes() default 65536;

    @AttributeDefinition(description = "Open status sockets per user; one more is refused with 429 before upgrading")
    int max_sockets_per_user() default 16;

    @AttributeDefinition(description = "Seconds without any traffic (pongs count) before a socket is dropped")
    int idle_timeout_seconds() default 120;
}
