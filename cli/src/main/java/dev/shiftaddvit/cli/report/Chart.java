package dev.shiftaddvit.cli.report;

import javax.imageio.ImageIO;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * A small headless chart renderer: one titled {@value #WIDTH}×{@value #HEIGHT} image split into
 * side-by-side panels, each a bar, stacked-bar or line chart. Text uses the JDK's logical sans-serif
 * font, so no font file ships with the engine.
 */
final class Chart {
    static {
        // Before any AWT class initializes (AWT caches the mode): charts are drawn into memory only, and a
        // JVM that sees a DISPLAY would otherwise load X11. Callers take colours from here for the same reason.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    static final int WIDTH = 800;
    static final int HEIGHT = 480;
    private static final Color BACKGROUND = Color.WHITE;
    private static final Color[] PALETTE = {new Color(0x4C72B0), new Color(0xDD8452), new Color(0x55A868),
            new Color(0x8172B3), new Color(0xC44E52), new Color(0x937860), new Color(0xDA8BC3), new Color(0x8C8C8C)};
    private static final Color INK = new Color(0x222222);
    private static final Color MUTED = new Color(0x5A5A5A);
    private static final Color GRID = new Color(0xE2E2E2);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font PANEL_TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font VALUE = new Font(Font.SANS_SERIF, Font.BOLD, 12);
    private static final Font NOTE = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final int TITLE_HEIGHT = 44;

    /** Colour i of a muted qualitative palette: blue, orange, green, purple, red, brown, pink, grey. */
    static Color palette(int i) {
        return PALETTE[Math.floorMod(i, PALETTE.length)];
    }

    /** One bar: its category label, height, the text printed above it and an optional smaller note. */
    record Bar(String label, double value, String text, String note, Color color) {
    }

    /** One layer of a stacked bar chart, with a value per category. */
    record Series(String name, Color color, double[] values) {
    }

    /** One line of a line chart. */
    record Line(String name, Color color, double[] x, double[] y) {
    }

    /** A legend entry. */
    private record Key(String name, Color color) {
    }

    /** A value range with round tick spacing. */
    private record Axis(double min, double max, double step) {
        /** Round bounds around [lo, hi] with about {@code ticks} intervals of 1, 2, 2.5 or 5 times a power of ten. */
        static Axis around(double lo, double hi, int ticks) {
            if (!(hi > lo)) hi = lo + 1;
            double raw = (hi - lo) / ticks;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double r = raw / mag;
            double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
            return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
        }

        /** Distance from the low end as a fraction of the range. */
        double at(double v) {
            return (v - min) / (max - min);
        }

        /** The tick values, computed from the index so that rounding errors do not accumulate. */
        double[] ticks() {
            int n = (int) Math.round((max - min) / step);
            double[] t = new double[n + 1];
            for (int k = 0; k <= n; k++) t[k] = min + k * step;
            return t;
        }

        /** Fewest decimals that print every tick exactly (2.5 needs one, 0.02 two). */
        int decimals() {
            for (int d = 0; d < 6; d++) {
                double scaled = step * Math.pow(10, d);
                if (Math.abs(scaled - Math.rint(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
            }
            return 6;
        }
    }

    private final BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    private final Graphics2D g = image.createGraphics();
    private final int panels;

    Chart(String title, int panels) {
        this.panels = panels;
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(BACKGROUND);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        centered(title, TITLE, INK, WIDTH / 2.0, 30);
    }

    /**
     * Bars rising from zero, each with its value printed above it, or just inside its top where the
     * axis leaves no room above. {@code axisMax} fixes the top of the axis (100 for a percentage); NaN
     * fits it to the data.
     */
    void bars(int panel, String title, String yLabel, List<Bar> bars, double axisMax) {
        double max = bars.stream().mapToDouble(Bar::value).filter(Double::isFinite).max().orElse(0);
        Axis y = max <= axisMax ? Axis.around(0, axisMax, 5)
                : Axis.around(0, Math.max(max, 0) * 1.2, 5); // headroom for the value and note lines
        Rectangle p = frame(panel, title, "stage", yLabel, y, List.of());
        double slot = p.width / (double) bars.size();
        double w = Math.min(slot * 0.6, 90);
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            double cx = p.x + slot * (i + 0.5);
            centered(b.label(), LABEL, INK, cx, p.y + p.height + 17);
            if (!Double.isFinite(b.value())) {
                centered(Numbers.NA, VALUE, MUTED, cx, p.y + p.height - 5);
                continue;
            }
            double top = p.y + p.height * (1 - y.at(b.value()));
            g.setColor(b.color());
            g.fill(new Rectangle.Double(cx - w / 2, top, w, p.y + p.height - top));
            int lines = b.note() == null ? 1 : 2;
            boolean inside = top - p.y < 3 + 15 * lines;
            double valueLine = inside ? top + 17 : top - 5 - 15 * (lines - 1);
            if (inside) { // a light backing keeps the text legible on any bar, even where it overhangs a narrow one
                g.setFont(VALUE);
                double tw = Math.max(g.getFontMetrics().stringWidth(b.text()),
                        b.note() == null ? 0 : g.getFontMetrics(NOTE).stringWidth(b.note()));
                g.setColor(new Color(255, 255, 255, 220));
                g.fill(new RoundRectangle2D.Double(cx - tw / 2 - 4, top + 3, tw + 8, 15 * lines + 4, 6, 6));
            }
            centered(b.text(), VALUE, INK, cx, valueLine);
            if (b.note() != null) centered(b.note(), NOTE, MUTED, cx, valueLine + 15);
        }
        axes(p);
    }

    /** Bars built from stacked series, the total printed above and each tall enough layer labelled inside. */
    void stacked(int panel, String title, String yLabel, List<String> categories, List<Series> series) {
        double[] totals = new double[categories.size()];
        for (Series s : series) for (int i = 0; i < totals.length; i++) totals[i] += s.values()[i];
        double max = 0;
        for (double t : totals) max = Math.max(max, t);
        Axis y = Axis.around(0, max * 1.12, 5);
        List<Key> keys = series.stream().map(s -> new Key(s.name(), s.color())).toList();
        Rectangle p = frame(panel, title, "stage", yLabel, y, keys);
        double slot = p.width / (double) categories.size();
        double w = Math.min(slot * 0.6, 90);
        int decimals = Math.min(y.decimals() + 1, 6); // one digit finer than the ticks
        for (int i = 0; i < categories.size(); i++) {
            double cx = p.x + slot * (i + 0.5);
            centered(categories.get(i), LABEL, INK, cx, p.y + p.height + 17);
            double base = 0;
            for (Series s : series) {
                double v = s.values()[i];
                double top = p.y + p.height * (1 - y.at(base + v));
                double bottom = p.y + p.height * (1 - y.at(base));
                g.setColor(s.color());
                g.fill(new Rectangle.Double(cx - w / 2, top, w, bottom - top));
                if (bottom - top >= 16) {
                    centered(Numbers.fixed(v, decimals), NOTE, Color.WHITE, cx, (top + bottom) / 2 + 4);
                }
                base += v;
            }
            centered(Numbers.fixed(totals[i], decimals), VALUE, INK, cx, p.y + p.height * (1 - y.at(totals[i])) - 5);
        }
        axes(p);
    }

    /** Lines with a marker at every point; the y range fits the data rather than starting at zero. */
    void lines(int panel, String title, String xLabel, String yLabel, List<Line> lines) {
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (Line l : lines) {
            for (int i = 0; i < l.x().length; i++) {
                if (!Double.isFinite(l.y()[i])) continue;
                xMin = Math.min(xMin, l.x()[i]);
                xMax = Math.max(xMax, l.x()[i]);
                yMin = Math.min(yMin, l.y()[i]);
                yMax = Math.max(yMax, l.y()[i]);
            }
        }
        if (xMin > xMax) { // nothing finite to draw
            xMin = xMax = yMin = yMax = 0;
        }
        double pad = Math.max((yMax - yMin) * 0.08, 0.5);
        Axis y = Axis.around(yMin - pad, yMax + pad, 5);
        Axis x = Axis.around(xMin, xMax, Math.min(8, Math.max(1, (int) Math.round(xMax - xMin))));
        if (x.step() < 1) { // epochs are whole
            x = new Axis(Math.floor(xMin), Math.max(Math.ceil(xMax), Math.floor(xMin) + 1), 1);
        }
        List<Key> keys = lines.stream().map(l -> new Key(l.name(), l.color())).toList();
        Rectangle p = frame(panel, title, xLabel, yLabel, y, keys);
        Rectangle inner = new Rectangle(p.x + 14, p.y, p.width - 28, p.height); // keeps end markers off the axes
        for (double v : x.ticks()) {
            centered(Numbers.fixed(v, x.decimals()), LABEL, INK, inner.x + inner.width * x.at(v), p.y + p.height + 17);
        }
        g.setStroke(new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (Line l : lines) {
            g.setColor(l.color());
            Path2D.Double path = new Path2D.Double();
            boolean started = false;
            for (int i = 0; i < l.x().length; i++) {
                if (!Double.isFinite(l.y()[i])) continue;
                double px = inner.x + inner.width * x.at(l.x()[i]);
                double py = p.y + p.height * (1 - y.at(l.y()[i]));
                if (started) path.lineTo(px, py);
                else path.moveTo(px, py);
                started = true;
                g.fill(new Ellipse2D.Double(px - 3.5, py - 3.5, 7, 7));
            }
            g.draw(path);
        }
        g.setStroke(new BasicStroke(1));
        axes(p);
    }

    /** The image as PNG bytes. */
    byte[] png() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) { // no temp files, unlike the default
            if (!ImageIO.write(image, "png", ios)) throw new IOException("this JDK has no PNG writer");
        }
        return out.toByteArray();
    }

    /** Draws a panel's title, legend, grid, tick labels and axis labels and returns its plot area. */
    private Rectangle frame(int panel, String title, String xLabel, String yLabel, Axis y, List<Key> keys) {
        int x0 = panel * WIDTH / panels;
        int x1 = (panel + 1) * WIDTH / panels;
        double cx = (x0 + x1) / 2.0;
        centered(title, PANEL_TITLE, INK, cx, TITLE_HEIGHT + 14);
        if (!keys.isEmpty()) legend(keys, cx, TITLE_HEIGHT + 36);
        int top = TITLE_HEIGHT + (keys.isEmpty() ? 34 : 54);
        Rectangle p = new Rectangle(x0 + 70, top, x1 - x0 - 70 - 20, HEIGHT - 52 - top);
        g.setFont(LABEL);
        for (double v : y.ticks()) {
            int py = (int) Math.round(p.y + p.height * (1 - y.at(v)));
            g.setColor(GRID);
            g.drawLine(p.x, py, p.x + p.width, py);
            String t = Numbers.fixed(v, y.decimals());
            g.setColor(INK);
            g.drawString(t, p.x - 7 - g.getFontMetrics().stringWidth(t), py + 4);
        }
        centered(xLabel, LABEL, MUTED, p.getCenterX(), HEIGHT - 12);
        AffineTransform saved = g.getTransform();
        g.translate(x0 + 18, p.getCenterY());
        g.rotate(-Math.PI / 2);
        centered(yLabel, LABEL, MUTED, 0, 0);
        g.setTransform(saved);
        return p;
    }

    private void axes(Rectangle p) {
        g.setColor(INK);
        g.drawLine(p.x, p.y, p.x, p.y + p.height);
        g.drawLine(p.x, p.y + p.height, p.x + p.width, p.y + p.height);
    }

    private void legend(List<Key> keys, double cx, double baseline) {
        g.setFont(LABEL);
        int swatch = 11, gap = 5, spacing = 16;
        double total = -spacing;
        for (Key k : keys) total += swatch + gap + g.getFontMetrics().stringWidth(k.name()) + spacing;
        double x = cx - total / 2;
        for (Key k : keys) {
            g.setColor(k.color());
            g.fill(new Rectangle.Double(x, baseline - swatch, swatch, swatch));
            g.setColor(INK);
            g.drawString(k.name(), (float) (x + swatch + gap), (float) baseline);
            x += swatch + gap + g.getFontMetrics().stringWidth(k.name()) + spacing;
        }
    }

    private void centered(String text, Font font, Color color, double cx, double baseline) {
        g.setFont(font);
        g.setColor(color);
        g.drawString(text, (float) (cx - g.getFontMetrics().stringWidth(text) / 2.0), (float) baseline);
    }
}
