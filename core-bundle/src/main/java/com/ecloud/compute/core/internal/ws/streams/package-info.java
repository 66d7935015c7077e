/**
 * The per-container WebSocket streams: {@code /compute/containers/:id/logs} and {@code /compute/containers/:id/terminal},
 * reached through a whiteboard filter (servlet patterns cannot express {@code /compute/containers/* /logs}) that
 * authenticates before upgrading and lets every other request through to the REST API.
 */
package com.ecloud.compute.core.internal.ws.streams;
