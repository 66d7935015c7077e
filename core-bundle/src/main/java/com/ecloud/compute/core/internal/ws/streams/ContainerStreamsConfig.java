package com.ecloud.compute.core.internal.ws.streams;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Limits of the log and terminal sockets. PID {@value #PID}; in a {@code .cfg} file the keys are spelled with dots
 * ({@code max.sockets.per.user=32}).
 */
@ObjectClassDefinition(name = "ecloud compute log and terminal streams")
public @interface ContainerStreamsConfig {

    String PID = "com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter";

    @AttributeDefinition(description = "Largest incoming message in bytes")
    int max_message_bytes() default 65536;

    @AttributeDefinition(description = "Open log and terminal sockets per user; one more is refused with 429 before upgrading")
    int max_sockets_per_user() default 32;

    @AttributeDefinition(description = "Seconds between server pings on every socket (keeps proxies from idling it out)")
    int ping_interval_seconds() default 30;

    @AttributeDefinition(description = "Seconds without any traffic (pongs count) before a socket is dropped")
    int idle_timeout_seconds() default 120;

    @AttributeDefinition(description = "Seconds one outgoing message may wait for a client that does not read before "
            + "the server closes it (1008)")
    int send_timeout_seconds() default 30;

    @AttributeDefinition(description = "Largest tail a client may ask for (?tail=N)")
    int max_tail() default 10000;
}
