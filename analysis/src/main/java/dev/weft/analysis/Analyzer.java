package dev.weft.analysis;

import java.util.List;

/**
 * One analyzer: a pure function from a set of objects to messages, as one of Istio's {@code
 * pkg/config/analysis/analyzers}.
 */
public interface Analyzer {
  /** Istio's name for it, e.g. {@code virtualservice.DestinationHostAnalyzer}. */
  String name();

  /** The messages about {@code input}; never throws on odd input. */
  List<Message> analyze(AnalysisInput input);
}
