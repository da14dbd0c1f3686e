package io.specd.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Draws {@code specd bench}'s tokens/s against draft length as a PNG: one line per drafter and
 * temperature through its {@code static-N} runs, the adaptive policies of the same drafter and
 * temperature as dashed horizontal lines, and plain decoding as a grey line. Java2D, headless.
 */
final class BenchPlot {
  private static final Pattern STATIC = Pattern.compile("static-(\\d+)");
  private static final int WIDTH = 1120;
  private static final int HEIGHT = 600;
  private static final int LEFT = 80;
  private static final int RIGHT = 350;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;
  private static final Color[] COLORS = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0x9467bd),
    new Color(0xff7f0e),
    new Color(0x8c564b),
    new Color(0xe377c2),
    new Color(0x17becf)
  };

  private BenchPlot() {}

  /** One point of the plot: a drafter, a policy, a temperature and its tokens/s. */
  record Point(String drafter, String policy, double temperature, double tokensPerSecond) {}

  /** Writes the plot of the points to a PNG file. */
  static void write(List<Point> points, Path file) throws IOException {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      draw(g, points);
    } finally {
      g.dispose();
    }
    ImageIO.write(image, "png", file.toFile());
  }

  private static void draw(Graphics2D g, List<Point> points) {
    int maxDepth = 1;
    double maxRate = 1;
    for (Point p : points) {
      maxRate = Math.max(maxRate, p.tokensPerSecond());
      Matcher m = STATIC.matcher(p.policy());
      if (m.matches()) {
        maxDepth = Math.max(maxDepth, Integer.parseInt(m.group(1)));
      }
    }
    double top = niceCeiling(maxRate * 1.05);
    Axes axes = new Axes(maxDepth, top);
    axes.draw(g);
    Map<String, List<Point>> series = new LinkedHashMap<>();
    for (Point p : points) {
      String key = p.drafter().equals("none") ? "none" : p.drafter() + " T=" + p.temperature();
      series.computeIfAbsent(key, k -> new ArrayList<>()).add(p);
    }
    int colour = 0;
    int legendY = TOP + 10;
    for (Map.Entry<String, List<Point>> s : series.entrySet()) {
      if (s.getKey().equals("none")) {
        for (Point p : s.getValue()) {
          g.setColor(Color.GRAY);
          legendY =
              horizontal(
                  g, axes, p.tokensPerSecond(), "plain T=" + p.temperature(), legendY, "none");
        }
        continue;
      }
      g.setColor(COLORS[colour++ % COLORS.length]);
      legendY = drawSeries(g, axes, s.getKey(), s.getValue(), legendY);
    }
  }

  private static int drawSeries(
      Graphics2D g, Axes axes, String name, List<Point> points, int legendY) {
    g.setStroke(new BasicStroke(2.5f));
    int lastX = -1;
    int lastY = -1;
    List<Point> fixed = new ArrayList<>(points);
    fixed.removeIf(p -> !STATIC.matcher(p.policy()).matches());
    fixed.sort((a, b) -> Integer.compare(depth(a), depth(b)));
    for (Point p : fixed) {
      int x = axes.x(depth(p));
      int y = axes.y(p.tokensPerSecond());
      g.fillOval(x - 4, y - 4, 8, 8);
      if (lastX >= 0) {
        g.drawLine(lastX, lastY, x, y);
      }
      lastX = x;
      lastY = y;
    }
    legend(g, name + " static-N", legendY, new BasicStroke(2.5f));
    legendY += 20;
    for (Point p : points) {
      if (!STATIC.matcher(p.policy()).matches()) {
        legendY =
            horizontal(g, axes, p.tokensPerSecond(), name + " " + p.policy(), legendY, p.policy());
      }
    }
    return legendY;
  }

  /** A dashed line across the plot at a rate, labelled at its right end and in the legend. */
  private static int horizontal(
      Graphics2D g, Axes axes, double rate, String label, int legendY, String policy) {
    g.setStroke(dashes(policy));
    int y = axes.y(rate);
    g.drawLine(LEFT, y, WIDTH - RIGHT, y);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.drawString(String.format("%.0f", rate), WIDTH - RIGHT + 4, y + 4);
    legend(g, label, legendY, dashes(policy));
    return legendY + 20;
  }

  /** Each adaptive policy has its own dash pattern, so policies of one colour stay apart. */
  private static BasicStroke dashes(String policy) {
    float[] pattern =
        switch (policy) {
          case "bandit" -> new float[] {2, 4};
          case "adaedl" -> new float[] {10, 5};
          case "confidence" -> new float[] {12, 4, 2, 4};
          case "tree" -> new float[] {5, 5};
          default -> new float[] {3, 9};
        };
    return new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, pattern, 0);
  }

  private static void legend(Graphics2D g, String label, int y, BasicStroke stroke) {
    int x = WIDTH - RIGHT + 45;
    g.setStroke(stroke);
    g.drawLine(x, y - 4, x + 24, y - 4);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(label, x + 30, y);
  }

  private static int depth(Point p) {
    Matcher m = STATIC.matcher(p.policy());
    return m.matches() ? Integer.parseInt(m.group(1)) : 0;
  }

  private static double niceCeiling(double value) {
    double step = Math.pow(10, Math.floor(Math.log10(value)));
    return Math.ceil(value / step) * step;
  }

  /** The plot area: draft length 1..maxDepth across, tokens/s 0..top up. */
  private record Axes(int maxDepth, double top) {
    int x(int depth) {
      int span = WIDTH - LEFT - RIGHT;
      return LEFT + (maxDepth == 1 ? span / 2 : (depth - 1) * span / (maxDepth - 1));
    }

    int y(double rate) {
      return HEIGHT - BOTTOM - (int) Math.round(rate / top * (HEIGHT - TOP - BOTTOM));
    }

    void draw(Graphics2D g) {
      g.setColor(Color.BLACK);
      g.setStroke(new BasicStroke(1f));
      g.drawLine(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM);
      g.drawLine(LEFT, TOP, LEFT, HEIGHT - BOTTOM);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int d = 1; d <= maxDepth; d++) {
        g.drawString(Integer.toString(d), x(d) - 3, HEIGHT - BOTTOM + 18);
      }
      for (int i = 0; i <= 5; i++) {
        double rate = top * i / 5;
        int y = y(rate);
        g.setColor(new Color(0xdddddd));
        g.drawLine(LEFT + 1, y, WIDTH - RIGHT, y);
        g.setColor(Color.BLACK);
        g.drawString(String.format("%.0f", rate), LEFT - 45, y + 4);
      }
      g.drawString("draft length (static-N)", LEFT + (WIDTH - LEFT - RIGHT) / 2 - 60, HEIGHT - 20);
      g.drawString("tokens/s", 10, TOP - 15);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(
          "specd bench: tokens/s against draft length; dashed: adaptive policies", LEFT, 25);
    }
  }
}
