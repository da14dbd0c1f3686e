package io.specd.streams.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.tokenizer.TextPiece;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns chat messages into a prompt. With the GGUF's {@code tokenizer.chat_template} (a Hugging
 * Face Jinja template) it renders that template with jinjava, as {@code transformers}' {@code
 * apply_chat_template} does ({@code messages}, {@code add_generation_prompt = true}, {@code
 * bos_token}, {@code eos_token}; blocks trimmed). Without one it writes plain lines, {@code
 * "System: …"}, {@code "User: …"}, {@code "Assistant: …"}, ending with {@code "Assistant:"}, and
 * asks the generation to stop at the next {@code "\nUser:"}.
 *
 * <p>A rendered chat is a list of {@link TextPiece}s: the template's own text is parsed for special
 * tokens ({@code <|im_start|>} is one token), the messages' contents are literal, so a user who
 * writes {@code <|im_end|>} gets those characters, never the control token. To tell the two apart,
 * the template is rendered once more with a marker in place of each content. Immutable and
 * thread-safe.
 */
public final class ChatTemplate {
  private static final Logger LOG = LoggerFactory.getLogger(ChatTemplate.class);

  /** The metadata key of the template in a GGUF file. */
  public static final String GGUF_KEY = "tokenizer.chat_template";

  /** Where the plain template ends a turn: the model starting the user's next line. */
  static final String PLAIN_STOP = "\nUser:";

  private static final List<ChatMessage> PROBE = List.of(new ChatMessage("user", "Hello"));

  /** Stands in for the content of message n (private-use characters no template writes). */
  private static final Pattern CONTENT_MARK = Pattern.compile("\uE000(\\d+)\uE001");

  private final String template; // null for the plain template
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  private ChatTemplate(String template, String bosToken, String eosToken) {
    this.template = template;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    if (template == null) {
      this.jinjava = null;
    } else {
      // Hugging Face renders chat templates with trim_blocks and lstrip_blocks on.
      this.jinjava =
          new Jinjava(
              JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
      jinjava.registerFunction(
          new ELFunctionDefinition(
              "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    }
  }

  /** One chat turn: {@code system}, {@code user} or {@code assistant}, and its text. */
  public record ChatMessage(String role, String content) {}

  /** The plain-lines template. */
  public static ChatTemplate plain() {
    return new ChatTemplate(null, "", "");
  }

  /**
   * A Jinja chat template.
   *
   * @param template the template text
   * @param bosToken the text of the BOS token (removed again from the start of the prompt, since
   *     the tokenizer adds BOS itself)
   * @param eosToken the text of the EOS token
   * @throws IllegalArgumentException if the template cannot render a one-message conversation
   */
  public static ChatTemplate jinja(String template, String bosToken, String eosToken) {
    ChatTemplate chat = new ChatTemplate(template, bosToken, eosToken);
    chat.render(PROBE);
    return chat;
  }

  /**
   * The template a model asks for: its GGUF {@code tokenizer.chat_template} when it has one that
   * renders, else the plain one (a broken template is logged and replaced by the plain one).
   */
  public static ChatTemplate forModel(LlamaModel model) {
    Optional<String> template =
        Files.isDirectory(model.source())
            ? huggingFaceTemplate(model.source())
            : ggufTemplate(model.source());
    if (template.isEmpty()) {
      return plain();
    }
    TextTokenizer tokenizer = model.tokenizer();
    try {
      return jinja(
          template.get(), tokenizer.piece(tokenizer.bosId()), tokenizer.piece(tokenizer.eosId()));
    } catch (IllegalArgumentException e) {
      LOG.warn("the model's chat template does not render ({}); using plain lines", e.getMessage());
      return plain();
    }
  }

  private static Optional<String> ggufTemplate(Path source) {
    return GgufFile.open(source).optionalString(GGUF_KEY).filter(t -> !t.isBlank());
  }

  /**
   * A Hugging Face directory's template: {@code chat_template.jinja} (as transformers saves it
   * today), else {@code chat_template} of {@code tokenizer_config.json}, a string or a list of
   * named templates of which the one named {@code default} (or the first) is taken.
   */
  static Optional<String> huggingFaceTemplate(Path directory) {
    try {
      Path jinja = directory.resolve("chat_template.jinja");
      if (Files.isRegularFile(jinja)) {
        return Optional.of(Files.readString(jinja)).filter(t -> !t.isBlank());
      }
      Path config = directory.resolve("tokenizer_config.json");
      if (!Files.isRegularFile(config)) {
        return Optional.empty();
      }
      JsonNode template = Json.MAPPER.readTree(config.toFile()).path("chat_template");
      if (template.isArray()) {
        JsonNode chosen = template.get(0);
        for (JsonNode named : template) {
          if ("default".equals(named.path("name").asText())) {
            chosen = named;
          }
        }
        template = chosen == null ? template : chosen.path("template");
      }
      return template.isTextual() && !template.asText().isBlank()
          ? Optional.of(template.asText())
          : Optional.empty();
    } catch (IOException e) {
      LOG.warn(
          "cannot read the chat template of {} ({}); using plain lines", directory, e.getMessage());
      return Optional.empty();
    }
  }

  /** True when the model's own template is used. */
  public boolean isModelTemplate() {
    return template != null;
  }

  /** Stop strings the template needs so the model answers one turn only. */
  public List<String> stopStrings() {
    return template == null ? List.of(PLAIN_STOP) : List.of();
  }

  /**
   * Renders a conversation, ready for the assistant's next turn.
   *
   * @param messages the turns in order (at least one)
   * @return the prompt text
   * @throws IllegalArgumentException if the template refuses the conversation (its message says
   *     why, e.g. roles that must alternate)
   */
  public String render(List<ChatMessage> messages) {
    StringBuilder prompt = new StringBuilder();
    renderPieces(messages).forEach(piece -> prompt.append(piece.text()));
    return prompt.toString();
  }

  /**
   * Renders a conversation as {@link #render} does, as pieces to tokenize: the template's text
   * parsed for special tokens, each message's content (as the template wrote it, e.g. trimmed)
   * literal.
   *
   * @param messages the turns in order (at least one)
   * @return the prompt, in order
   * @throws IllegalArgumentException if the template refuses the conversation
   */
  public List<TextPiece> renderPieces(List<ChatMessage> messages) {
    if (template == null) {
      return renderPlain(messages);
    }
    List<ChatMessage> marked = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      marked.add(new ChatMessage(messages.get(i).role(), "\uE000" + i + "\uE001"));
    }
    return pieces(renderJinja(marked), renderJinja(messages), messages);
  }

  /**
   * Splits a rendering into template text and contents. The template text comes from the rendering
   * with markers; each content is taken as the real rendering wrote it where that can be told (the
   * content itself or trimmed, followed by the template's next text), else as the message has it.
   *
   * @param skeleton the rendering with a marker in place of each content
   * @param rendered the real rendering
   */
  private static List<TextPiece> pieces(
      String skeleton, String rendered, List<ChatMessage> messages) {
    List<TextPiece> pieces = new ArrayList<>();
    Matcher mark = CONTENT_MARK.matcher(skeleton);
    int templateStart = 0;
    int renderedAt = 0; // where the real rendering is aligned with the skeleton, -1 once lost
    while (mark.find()) {
      String templateText = skeleton.substring(templateStart, mark.start());
      pieces.add(TextPiece.parsed(templateText));
      renderedAt =
          rendered.startsWith(templateText, renderedAt) ? renderedAt + templateText.length() : -1;
      int nextMark = skeleton.indexOf('\uE000', mark.end());
      String nextText = skeleton.substring(mark.end(), nextMark < 0 ? skeleton.length() : nextMark);
      String content = messages.get(Integer.parseInt(mark.group(1))).content();
      String written = content;
      if (renderedAt >= 0) {
        int at = renderedAt;
        written =
            List.of(content, content.strip()).stream()
                .filter(
                    c ->
                        rendered.startsWith(c, at)
                            && rendered.startsWith(nextText, at + c.length()))
                .findFirst()
                .orElse(null);
      }
      renderedAt = written == null ? -1 : renderedAt + written.length();
      pieces.add(TextPiece.literal(written == null ? content : written));
      templateStart = mark.end();
    }
    pieces.add(TextPiece.parsed(skeleton.substring(templateStart)));
    return pieces;
  }

  private String renderJinja(List<ChatMessage> messages) {
    Map<String, Object> context = new HashMap<>();
    context.put(
        "messages",
        messages.stream().map(m -> Map.of("role", m.role(), "content", m.content())).toList());
    context.put("add_generation_prompt", true);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result = jinjava.renderForResult(template, context);
    List<TemplateError> fatal =
        result.getErrors().stream()
            .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
            .toList();
    if (!fatal.isEmpty()) {
      throw new IllegalArgumentException(
          "the chat template failed: "
              + fatal.stream().map(ChatTemplate::reason).collect(Collectors.joining("; ")));
    }
    String prompt = result.getOutput();
    // The tokenizer adds BOS to every prompt; a template's leading BOS text would double it.
    if (!bosToken.isEmpty() && prompt.startsWith(bosToken)) {
      prompt = prompt.substring(bosToken.length());
    }
    return prompt;
  }

  /** A template error's own message, or that of the exception a function raised. */
  private static String reason(TemplateError error) {
    Throwable cause = error.getException();
    String message = error.getMessage();
    while (cause != null) {
      if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
        message = cause.getMessage(); // raise_exception's text
      }
      cause = cause.getCause();
    }
    return message;
  }

  private static List<TextPiece> renderPlain(List<ChatMessage> messages) {
    List<TextPiece> prompt = new ArrayList<>();
    for (ChatMessage m : messages) {
      String role = m.role().toLowerCase(Locale.ROOT);
      String speaker =
          switch (role) {
            case "system", "developer" -> "System";
            case "assistant" -> "Assistant";
            default -> "User";
          };
      prompt.add(TextPiece.parsed(speaker + ": "));
      prompt.add(TextPiece.literal(m.content().strip()));
      prompt.add(TextPiece.parsed("\n"));
    }
    prompt.add(TextPiece.parsed("Assistant:"));
    return prompt;
  }

  /**
   * The {@code raise_exception} function Hugging Face templates call to refuse a conversation.
   * Public only so that jinjava can call it.
   */
  public static String raiseException(String message) {
    throw new IllegalArgumentException(message);
  }
}
