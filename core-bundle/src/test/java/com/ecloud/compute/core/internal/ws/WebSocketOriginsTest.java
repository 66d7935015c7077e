package com.ecloud.compute.core.internal.ws;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;

import org.junit.jupiter.api.Test;

class WebSocketOriginsTest {

    private static WebSocketOrigins.Config config(String... origins) {
        return new WebSocketOrigins.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return WebSocketOrigins.Config.class;
            }

            @Override
            public String[] allowed_origins() {
                return origins;
            }
        };
    }

    @Test
    void anyOriginWhenNoneIsListed() {
        WebSocketOrigins origins = new WebSocketOrigins(config());
        assertTrue(origins.allows("https://anything.example"));
        assertTrue(origins.allows("null"));
        assertTrue(origins.allows(null));
    }

    @Test
    void onlyListedOriginsOnceAListIsGivenButClientsWithoutOriginStillPass() {
        WebSocketOrigins origins = new WebSocketOrigins(config("https://dash.example.com, http://localhost:8080/"));
        assertTrue(origins.allows("https://dash.example.com"));
        assertTrue(origins.allows("HTTPS://Dash.Example.com"));
        assertTrue(origins.allows("http://localhost:8080"));
        assertFalse(origins.allows("http://localhost:8081"));
        assertFalse(origins.allows("https://dash.example.com.evil.example"));
        assertFalse(origins.allows("null"));
        assertTrue(origins.allows(null), "a client that is not a browser sends no Origin");
    }

    @Test
    void aChangedListAppliesAtOnceAndAStarAllowsAll() {
        WebSocketOrigins origins = new WebSocketOrigins(config("https://a.example"));
        assertFalse(origins.allows("https://b.example"));
        origins.modified(config("https://a.example", "https://b.example"));
        assertTrue(origins.allows("https://b.example"));
        origins.modified(config("*"));
        assertTrue(origins.allows("https://c.example"));
    }
}
