package com.ecloud.compute.gateway.internal.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.group.ChannelGroup;

/** What every connection of one ProxyServer shares. */
record ProxyCore(ProxySettings settings, RouteResolver resolver, BackendPools pools, ChannelGroup openChannels,
        Bootstrap backendBootstrap) {
}
