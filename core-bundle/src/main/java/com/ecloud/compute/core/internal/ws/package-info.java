/**
 * The WebSocket streams of the API: {@code /compute/ws} (container status). Jetty's EE10 WebSocket server inside
 * Felix HTTP, reached through plain whiteboard servlets that authenticate before upgrading.
 */
package com.ecloud.compute.core.internal.ws;
