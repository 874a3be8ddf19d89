import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites the signed jars of a distribution's lib (BouncyCastle's) without their signature and
 * with their manifest's main section only (JAR File Specification, "Signed JAR File"). The JDK's
 * class loader reads a jar's whole manifest when it defines a package from it, and verifies a
 * signed jar's classes against it; a signed jar's manifest names every entry with its digest:
 * bcprov's is 0.75 MB of text, parsed into about 5,000 {@code Attributes}, 3.5 MB of heap for
 * bcprov alone in every JVM that loads a BouncyCastle class (the control plane, the CLI). The
 * {@code JarFile} holds it softly, so the heap grows to hold it at start, and a serial heap gives
 * that back only after a full collection (docs/benchmarks.md, "Footprint", 2026-12-01). Nothing in
 * Weft needs the signature (OpenJDK does not require a signed JCE provider; the build took the jars
 * from Maven Central with their checksums). Run by the cli module's package phase: {@code java
 * StripJarSignatures.java LIB}; idempotent.
 */
public final class StripJarSignatures {
  private static final Pattern SIGNATURE =
      Pattern.compile("META-INF/([^/]+\\.(SF|RSA|DSA|EC)|SIG-[^/]+)", Pattern.CASE_INSENSITIVE);

  public static void main(String[] args) throws IOException {
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(Path.of(args[0]), "*.jar")) {
      for (Path jar : jars) {
        if (signed(jar)) {
          strip(jar);
          System.out.println("weft: " + jar.getFileName() + " without its signature");
        }
      }
    }
  }

  private static boolean signed(Path jar) throws IOException {
    try (ZipFile z = new ZipFile(jar.toFile())) {
      return z.stream().anyMatch(e -> SIGNATURE.matcher(e.getName()).matches());
    }
  }

  private static void strip(Path jar) throws IOException {
    Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
    try (JarFile in = new JarFile(jar.toFile(), false);
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(tmp))) {
      Enumeration<? extends ZipEntry> entries = in.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (SIGNATURE.matcher(e.getName()).matches()) {
          continue;
        }
        ZipEntry copy = new ZipEntry(e.getName());
        copy.setTime(e.getTime());
        out.putNextEntry(copy);
        if (e.getName().equalsIgnoreCase(JarFile.MANIFEST_NAME)) {
          Manifest main = new Manifest();
          main.getMainAttributes().putAll(in.getManifest().getMainAttributes());
          main.write(out);
        } else {
          try (InputStream data = in.getInputStream(e)) {
            data.transferTo(out);
          }
        }
        out.closeEntry();
      }
    }
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
