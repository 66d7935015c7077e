package com.ecloud.compute.gateway.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.gateway.internal.proxy.Route;

class RouteTableTest {

    private final RouteTable table = new RouteTable("Example.COM.", new HostEndpoint("127.0.0.1", 8080));

    private void running(String id, Map<Integer, Integer> rules, Map<Integer, HostEndpoint> endpoints) {
        table.put(id, new RouteTable.ContainerRoutes(id, ContainerStatus.RUNNING, rules, endpoints));
    }

    private static Route.Refusal refusal(Route route) {
        assertTrue(route instanceof Route.Refusal, () -> "expected a refusal: " + route);
        return (Route.Refusal) route;
    }

    @Test
    void routesAContainersRulePortToItsEndpoint() {
        running("abc12345", Map.of(80, 3000, 8080, 3000, 443, 4000),
                Map.of(3000, new HostEndpoint("127.0.0.1", 40001), 4000, new HostEndpoint("127.0.0.1", 40002)));
        assertEquals(new Route.Backend("127.0.0.1", 40001), table.resolve("abc12345.compute.example.com", 80, false));
        assertEquals(new Route.Backend("127.0.0.1", 40001), table.resolve("abc12345.compute.example.com", 8080, false));
        assertEquals(new Route.Backend("127.0.0.1", 40002), table.resolve("abc12345.compute.example.com", 443, true));
        assertEquals(Set.of(80, 443, 8080), table.portsInUse());
    }

    @Test
    void theApiIsServedAtComputeDomainOn80And443Only() {
        assertEquals(new Route.Backend("127.0.0.1", 8080), table.resolve("compute.example.com", 80, false));
        assertEquals(new Route.Backend("127.0.0.1", 8080), table.resolve("compute.example.com", 443, true));
        assertEquals(404, refusal(table.resolve("compute.example.com", 8000, false)).status());
        RouteTable withoutApi = new RouteTable("example.com", null);
        assertEquals(404, refusal(withoutApi.resolve("compute.example.com", 80, false)).status());
    }

    @Test
    void everyRefusalSaysWhy() {
        running("abc12345", Map.of(80, 3000), Map.of());
        table.put("stopped1", new RouteTable.ContainerRoutes("stopped1", ContainerStatus.STOPPED, Map.of(80, 3000), Map.of()));

        Route.Refusal foreign = refusal(table.resolve("example.org", 80, false));
        assertEquals(404, foreign.status());
        assertTrue(foreign.reason().contains("no such host: example.org"), foreign.reason());

        Route.Refusal bare = refusal(table.resolve(".compute.example.com", 80, false));
        assertEquals(404, bare.status());

        Route.Refusal unknown = refusal(table.resolve("zzz99999.compute.example.com", 80, false));
        assertEquals(404, unknown.status());
        assertTrue(unknown.reason().contains("zzz99999"), unknown.reason());

        Route.Refusal noRule = refusal(table.resolve("abc12345.compute.example.com", 8081, false));
        assertEquals(404, noRule.status());
        assertTrue(noRule.reason().contains("no ingress rule for port 8081"), noRule.reason());

        Route.Refusal stopped = refusal(table.resolve("stopped1.compute.example.com", 80, false));
        assertEquals(503, stopped.status());
        assertTrue(stopped.reason().contains("is stopped"), stopped.reason());

        Route.Refusal unreachable = refusal(table.resolve("abc12345.compute.example.com", 80, false));
        assertEquals(502, unreachable.status());
        assertTrue(unreachable.reason().contains("port 3000"), unreachable.reason());
    }

    @Test
    void aContainerWithoutRulesIsForgotten() {
        running("abc12345", Map.of(8123, 3000), Map.of(3000, new HostEndpoint("127.0.0.1", 40001)));
        assertEquals(Set.of(8123), table.portsInUse());
        running("abc12345", Map.of(), Map.of());
        assertEquals(Set.of(), table.portsInUse());
        assertEquals(404, refusal(table.resolve("abc12345.compute.example.com", 8123, false)).status());
        running("abc12345", Map.of(8123, 3000), Map.of());
        table.put("abc12345", null);
        assertEquals(null, table.get("abc12345"));
    }
}
