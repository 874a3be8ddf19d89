package dev.weft.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code src/build/StripJarSignatures.java}, which the package phase runs on the distribution's
 * lib: a signed jar loses its signature files and its manifest's per-entry sections (what the JDK
 * keeps on the heap), keeps its main attributes and every other entry byte for byte; an unsigned
 * jar is left as it is; a second run changes nothing.
 */
class StripJarSignaturesTest {
  @TempDir Path tmp;

  @Test
  void aSignedJarLosesItsSignatureAndPerEntryManifestAndKeepsItsClasses() throws Exception {
    Path lib = Files.createDirectories(tmp.resolve("lib"));
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().putValue("Bundle-SymbolicName", "bcprov");
    Attributes entry = new Attributes();
    entry.putValue("SHA-256-Digest", "AAAA");
    m.getEntries().put("org/example/A.class", entry);
    Path signed = lib.resolve("signed-1.0.jar");
    write(
        signed,
        m,
        List.of(
            "org/example/A.class", "class bytes",
            "META-INF/BC2048KE.SF", "signature file",
            "META-INF/BC2048KE.DSA", "signature block",
            "META-INF/services/x", "a service"));
    Path plain = lib.resolve("plain-1.0.jar");
    Manifest pm = new Manifest();
    pm.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    write(plain, pm, List.of("p/B.class", "other bytes"));
    long plainModified = Files.getLastModifiedTime(plain).toMillis();
    byte[] plainBytes = Files.readAllBytes(plain);

    assertThat(strip(lib)).contains("signed-1.0.jar without its signature").doesNotContain("plain");

    try (JarFile j = new JarFile(signed.toFile())) {
      assertThat(names(j))
          .containsExactly("META-INF/MANIFEST.MF", "org/example/A.class", "META-INF/services/x");
      assertThat(j.getManifest().getEntries()).isEmpty();
      assertThat(j.getManifest().getMainAttributes().getValue("Bundle-SymbolicName"))
          .isEqualTo("bcprov");
      assertThat(new String(j.getInputStream(j.getEntry("org/example/A.class")).readAllBytes()))
          .isEqualTo("class bytes");
    }
    assertThat(Files.readAllBytes(plain)).isEqualTo(plainBytes);
    assertThat(Files.getLastModifiedTime(plain).toMillis()).isEqualTo(plainModified);
    byte[] once = Files.readAllBytes(signed);
    assertThat(strip(lib)).isEmpty();
    assertThat(Files.readAllBytes(signed)).isEqualTo(once);
  }

  private static List<String> names(ZipFile z) {
    return Collections.list(z.entries()).stream().map(ZipEntry::getName).toList();
  }

  /** A jar with the manifest first, then {@code entries} (name, content, name, content...). */
  private static void write(Path jar, Manifest m, List<String> entries) throws Exception {
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new ZipEntry(JarFile.MANIFEST_NAME));
      m.write(out);
      out.closeEntry();
      for (int i = 0; i < entries.size(); i += 2) {
        out.putNextEntry(new ZipEntry(entries.get(i)));
        out.write(entries.get(i + 1).getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
      }
    }
  }

  /** Runs the build's script on {@code lib} as the package phase does; returns its output. */
  private static String strip(Path lib) throws Exception {
    Path script = Path.of("src", "build", "StripJarSignatures.java");
    if (!Files.exists(script)) {
      script = Path.of("cli", "src", "build", "StripJarSignatures.java");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(script.toString());
    cmd.add(lib.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.trim();
  }
}
