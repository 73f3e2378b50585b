#pragma once

#include "items/documentloader.h"

#include <QObject>

#include <functional>

class QWidget;

// Save Cached/Live Body As… for ComparePanel: writes one side of a DocumentComparison to a file,
// asking where through a FileChooser (a QFileDialog by default). The outcome goes to message().
// GUI thread.
class ComparisonSaver : public QObject {
    Q_OBJECT

public:
    enum class Side { Cached, Live };
    // Compact: the body's bytes as the store holds them or the serializer writes them (what the API
    // sends). Pretty: the pane's text, two-space indented, with a final newline.
    enum class Format { Compact, Pretty };
    // Asks where to save `side`; empty to cancel. The default is a QFileDialog; tests replace it.
    using FileChooser = std::function<QString(Side side, Format *format)>;

    // `dialogParent` parents the file dialog, and this object.
    explicit ComparisonSaver(QWidget *dialogParent);

    // The bytes save() writes; empty when that side has no body in that format.
    static QByteArray sideBytes(const DocumentComparison &comparison, Side side, Format format);
    // Writes the side of `shown` (nullptr: there is nothing to save) through QSaveFile (all or
    // nothing: a failed write leaves an existing file as it was).
    bool save(const DocumentComparisonPtr &shown, Side side, const QString &fileName, Format format);
    void setFileChooser(FileChooser chooser);
    // Asks for a file name (FileChooser) and saves the side of `shown` (nullptr: nothing to save).
    void saveAs(DocumentComparisonPtr shown, Side side);

signals:
    void message(const QString &text, bool error);

private:
    // Says so when there is no comparison.
    bool isShown(const DocumentComparisonPtr &comparison);
    QString chooseFile(const DocumentComparison &shown, Side side, Format *format);
    // "cached", "live", or "previous" when `comparison` is against the previous entry.
    static QString sideName(const DocumentComparison &comparison, Side side);

    QWidget *m_dialogParent;
    FileChooser m_chooser;
};
