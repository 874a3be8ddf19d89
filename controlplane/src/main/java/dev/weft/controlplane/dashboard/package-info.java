/**
 * The dashboard in the box (issue #9): a Kiali-like topology graph per namespace and a service
 * page, served on loopback (Kiali's port 20001) by the control plane. Numbers come from scraping
 * the proxies the control plane knows ({@link dev.weft.controlplane.dashboard.ProxyScraper},
 * Istio's standard metrics on each proxy's {@code /stats/prometheus}, rates from deltas in a {@link
 * dev.weft.controlplane.dashboard.MetricsWindow}), or from a Prometheus when one is configured
 * ({@link dev.weft.controlplane.dashboard.PrometheusSource}); {@link
 * dev.weft.controlplane.dashboard.GraphBuilder} turns either into nodes and edges. The page is
 * plain HTML, CSS and one JavaScript file of our own (no third-party code, nothing fetched at run
 * time), in this package's resources.
 */
package dev.weft.controlplane.dashboard;
