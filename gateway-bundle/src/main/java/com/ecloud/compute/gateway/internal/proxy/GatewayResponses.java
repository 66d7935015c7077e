package com.ecloud.compute.gateway.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Responses the gateway makes itself: plain text, one line, never a stack trace. */
final class GatewayResponses {
    private static final String TEXT_PLAIN = "text/plain; charset=utf-8";
    private static final int MAX_REASON_CHARS = 300;

    private GatewayResponses() {
    }

    static FullHttpResponse text(ByteBufAllocator alloc, int status, String reason, boolean close, boolean http10KeepAlive) {
        byte[] bytes = (oneLine(reason) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuf body = alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10KeepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return response;
    }

    /** Reasons may quote client input (a decoder message): keep them printable and on one line. */
    static String oneLine(String reason) {
        String text = reason == null || reason.isBlank() ? "request refused" : reason.strip();
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_REASON_CHARS));
        for (int i = 0; i < text.length() && out.length() < MAX_REASON_CHARS; i++) {
            char c = text.charAt(i);
            out.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return out.toString();
    }
}
