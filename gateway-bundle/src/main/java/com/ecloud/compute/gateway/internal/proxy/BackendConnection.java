package com.ecloud.compute.gateway.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * One connection to a backend: handed to one exchange at a time ({@link #owner}), parked in the pool between.
 * A parked connection is closed after idleTimeout; one check per idle period (no per-request timer) does it.
 */
final class BackendConnection extends ChannelInboundHandlerAdapter {
    private final Route.Backend backend;
    private final BackendPools pools;
    private final long idleNanos;
    private Channel channel;
    private ClientConnection.Exchange owner;
    private long parkedAtNanos;

    BackendConnection(Route.Backend backend, BackendPools pools, long idleNanos) {
        this.backend = backend;
        this.pools = pools;
        this.idleNanos = idleNanos;
    }

    Route.Backend backend() {
        return backend;
    }

    Channel channel() {
        return channel;
    }

    void owner(ClientConnection.Exchange exchange) {
        this.owner = exchange;
    }

    /** Ends the exchange's use; back to the pool when reusable and there is room, else closed. */
    void release(boolean reusable) {
        owner = null;
        parkedAtNanos = System.nanoTime();
        if (!channel.config().isAutoRead()) channel.config().setAutoRead(true);
        if (!reusable || !channel.isActive() || !pools.offer(this)) channel.close();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        parkedAtNanos = System.nanoTime();
        scheduleIdleCheck(idleNanos);
    }

    private void scheduleIdleCheck(long delayNanos) {
        channel.eventLoop().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (!channel.isOpen()) return;
        if (owner != null) {
            scheduleIdleCheck(idleNanos); // in use: the client connection watches the exchange
            return;
        }
        long idleFor = System.nanoTime() - parkedAtNanos;
        if (idleFor >= idleNanos) {
            channel.close(); // channelInactive takes it out of the pool
        } else {
            scheduleIdleCheck(idleNanos - idleFor);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ClientConnection.Exchange exchange = owner;
        if (exchange == null) {
            // a pooled connection must be silent; anything unasked for makes it unusable
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse || msg instanceof HttpContent) {
            exchange.fromBackend(msg);
        } else if (msg instanceof ByteBuf bytes) {
            exchange.relayFromBackend(bytes);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ClientConnection.Exchange exchange = owner;
        if (exchange != null) exchange.backendReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ClientConnection.Exchange exchange = owner;
        if (exchange != null) exchange.backendWritabilityChanged(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ClientConnection.Exchange exchange = owner;
        if (exchange == null) {
            pools.remove(this);
        } else {
            exchange.backendClosed(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors (reset by peer) end this connection; channelInactive tells the exchange
        ctx.close();
    }
}
