package com.ecloud.compute.api.model;

import java.time.Instant;

/**
 * A published port: requests for the container's host name on {@code port} reach its {@code targetPort}.
 *
 * @param id          numeric id
 * @param containerId the container it routes to
 * @param port        external port: 80, 443 or 8000-8999; unique per container
 * @param targetPort  port inside the container, 1-65535
 * @param createdAt   when it was added
 */
public record IngressRule(long id, String containerId, int port, int targetPort, Instant createdAt) {
}
