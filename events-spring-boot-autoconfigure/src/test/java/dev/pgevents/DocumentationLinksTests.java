package dev.pgevents;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every relative link of the README and the documents resolves: to a file of the
 * repository, and to a heading of it where the link names one (as GitHub makes a
 * heading's anchor).
 */
class DocumentationLinksTests {

	private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

	private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");

	private static final Pattern FENCE = Pattern.compile("(?ms)^```.*?^```");

	@Test
	void everyRelativeLinkResolves() throws IOException {
		List<String> broken = new ArrayList<>();
		for (Path document : documents()) {
			String text = FENCE.matcher(Files.readString(document)).replaceAll("");
			Matcher link = LINK.matcher(text);
			while (link.find()) {
				String target = link.group(1);
				if (target.matches("^[a-z]+:.*")) {
					continue; // http, https, mailto
				}
				int hash = target.indexOf('#');
				String file = (hash < 0) ? target : target.substring(0, hash);
				Path resolved = file.isEmpty() ? document : document.getParent().resolve(file).normalize();
				if (!Files.exists(resolved)) {
					broken.add(ROOT.relativize(document) + ": " + target + " (no such file)");
				}
				else if (hash >= 0 && resolved.toString().endsWith(".md")
						&& !anchors(resolved).contains(target.substring(hash + 1))) {
					broken.add(ROOT.relativize(document) + ": " + target + " (no such heading)");
				}
			}
		}
		assertThat(broken).isEmpty();
	}

	private static List<Path> documents() throws IOException {
		List<Path> documents = new ArrayList<>(List.of(ROOT.resolve("README.md")));
		for (String directory : List.of("docs", "samples", "benchmarks")) {
			try (Stream<Path> files = Files.walk(ROOT.resolve(directory))) {
				files.filter((file) -> file.toString().endsWith(".md"))
					.filter((file) -> !file.toString().contains("/target/"))
					.forEach(documents::add);
			}
		}
		Path contributing = ROOT.resolve("CONTRIBUTING.md");
		if (Files.exists(contributing)) {
			documents.add(contributing);
		}
		return documents;
	}

	/** The anchors GitHub gives a document's headings. */
	private static Set<String> anchors(Path document) throws IOException {
		Set<String> anchors = new HashSet<>();
		String text = FENCE.matcher(Files.readString(document)).replaceAll("");
		for (String line : text.split("\n")) {
			if (line.startsWith("#")) {
				String heading = line.replaceFirst("^#+\\s*", "").strip();
				String anchor = heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
				String unique = anchor;
				for (int n = 1; !anchors.add(unique); n++) {
					unique = anchor + "-" + n;
				}
			}
		}
		return anchors;
	}

}
