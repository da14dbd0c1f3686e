package io.specd.streams.http;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.specd.kernels.format.GgufFile;
import io.specd.kernels.llama.LlamaModel;
import io.specd.kernels.tokenizer.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns chat messages into a prompt. With the GGUF's {@code tokenizer.chat_template} (a Hugging
 * Face Jinja template) it renders that template with jinjava, as {@code transformers}' {@code
 * apply_chat_template} does ({@code messages}, {@code add_generation_prompt = true}, {@code
 * bos_token}, {@code eos_token}; blocks trimmed). Without one it writes plain lines, {@code
 * "System: …"}, {@code "User: …"}, {@code "Assistant: …"}, ending with {@code "Assistant:"}, and
 * asks the generation to stop at the next {@code "\nUser:"}. Immutable and thread-safe.
 */
public final class ChatTemplate {
  private static final Logger LOG = LoggerFactory.getLogger(ChatTemplate.class);

  /** The metadata key of the template in a GGUF file. */
  public static final String GGUF_KEY = "tokenizer.chat_template";

  /** Where the plain template ends a turn: the model starting the user's next line. */
  static final String PLAIN_STOP = "\nUser:";

  private static final List<ChatMessage> PROBE = List.of(new ChatMessage("user", "Hello"));

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
    Optional<String> template = ggufTemplate(model.source());
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
    if (!Files.isRegularFile(source)) {
      return Optional.empty(); // a Hugging Face directory: no GGUF metadata
    }
    return GgufFile.open(source).optionalString(GGUF_KEY).filter(t -> !t.isBlank());
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
    if (template == null) {
      return renderPlain(messages);
    }
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

  private static String renderPlain(List<ChatMessage> messages) {
    StringBuilder prompt = new StringBuilder();
    for (ChatMessage m : messages) {
      String role = m.role().toLowerCase(Locale.ROOT);
      String speaker =
          switch (role) {
            case "system", "developer" -> "System";
            case "assistant" -> "Assistant";
            default -> "User";
          };
      prompt.append(speaker).append(": ").append(m.content().strip()).append('\n');
    }
    return prompt.append("Assistant:").toString();
  }

  /**
   * The {@code raise_exception} function Hugging Face templates call to refuse a conversation.
   * Public only so that jinjava can call it.
   */
  public static String raiseException(String message) {
    throw new IllegalArgumentException(message);
  }
}
