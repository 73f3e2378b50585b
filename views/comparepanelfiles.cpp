// ComparePanel's way out: Save Cached/Live Body As…, Copy as JSON, Copy JSON Path.
#include "comparepanel.h"

#include "core/bytesize.h"
#include "core/savefile.h"

#include "json/jsonvalue.h"
#include "jsonsnippet.h"
#include "jsonview.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QLocale>

QString ComparePanel::sideName(Side side) const
{
    if (side == Side::Cached)
        return tr("cached");
    return m_comparison && m_comparison->againstPrevious ? tr("previous") : tr("live");
}

namespace {

QByteArray bytesOf(const DocumentComparison &c, ComparePanel::Side side, ComparePanel::Format format)
{
    const FormattedJson &document = side == ComparePanel::Side::Cached ? c.formatted.before : c.formatted.after;
    if (format == ComparePanel::Format::Pretty) {
        if (document.lineCount() == 0)
            return {};
        QByteArray pretty = document.text.toUtf8();
        pretty.append('\n');
        return pretty;
    }
    // The store's bytes as they are, even when they are not valid JSON (a corrupt entry).
    if (side == ComparePanel::Side::Cached)
        return !c.storedBytes.isEmpty() ? c.storedBytes : c.entry ? c.entry->body : QByteArray();
    return c.liveBody; // the serializer's own bytes
}

} // namespace

QByteArray ComparePanel::sideBytes(Side side, Format format) const
{
    return m_comparison ? bytesOf(*m_comparison, side, format) : QByteArray();
}

bool ComparePanel::saveSide(Side side, const QString &fileName, Format format)
{
    if (!m_comparison) {
        emit message(tr("Nothing to save: select a Foo first"), true);
        return false;
    }
    return save(*m_comparison, side, fileName, format);
}

bool ComparePanel::save(const DocumentComparison &comparison, Side side, const QString &fileName, Format format)
{
    const QByteArray bytes = bytesOf(comparison, side, format);
    if (bytes.isEmpty()) {
        emit message(tr("Nothing to save: the %1 side of Foo %2 has no body").arg(sideName(side)).arg(comparison.pk),
                     true);
        return false;
    }
    // All or nothing: a failed write leaves the target as it was.
    if (const Status saved = saveFile(fileName, bytes); !saved) {
        emit message(tr("Cannot save the %1 body of Foo %2 to %3").arg(sideName(side)).arg(comparison.pk).arg(saved.error().message),
                     true);
        return false;
    }
    emit message(tr("Saved the %1 body of Foo %2 (%3, %4) to %5")
                     .arg(sideName(side))
                     .arg(comparison.pk)
                     .arg(format == Format::Compact ? tr("compact") : tr("pretty-printed"), formatBytes(bytes.size()),
                          QDir::toNativeSeparators(fileName)),
                 false);
    return true;
}

void ComparePanel::setFileChooser(FileChooser chooser)
{
    m_chooser = std::move(chooser);
}

QString ComparePanel::chooseFile(Side side, Format *format)
{
    // Say which bytes "compact" means: a store that keeps parsed JSON (PostgreSQL's jsonb) has no
    // bytes of its own, so its compact form is the canonical one, not what was written.
    const bool canonical = side == Side::Cached && m_comparison->storedBytes.isEmpty();
    const QString compact = canonical ? tr("Compact JSON, canonical: this store keeps parsed JSON, not bytes (*.json)")
                                      : tr("Compact JSON, byte for byte as stored or sent (*.json)");
    const QString pretty = tr("Pretty-printed JSON, as shown (*.json)");
    QString filter = compact;
    const QString name = sideName(side);
    const QString suggested = QStringLiteral("foo-%1-%2.json").arg(m_comparison->pk).arg(name);
    const QString title = side == Side::Cached ? tr("Save Cached Body")
                          : name == tr("previous") ? tr("Save Previous Entry")
                                                   : tr("Save Live Body");
    const QString file = QFileDialog::getSaveFileName(this, title, suggested, compact + QStringLiteral(";;") + pretty,
                                                      &filter);
    *format = filter == pretty ? Format::Pretty : Format::Compact;
    return file;
}

void ComparePanel::saveSideAs(Side side)
{
    if (!m_comparison) {
        emit message(tr("Nothing to save: select a Foo first"), true);
        return;
    }
    // What was on screen when asked: the dialog runs an event loop, during which a new comparison
    // (another Foo, or this one re-read after a refresh) may arrive.
    const DocumentComparisonPtr shown = m_comparison;
    Format format = Format::Compact;
    const QString file = m_chooser ? m_chooser(side, &format) : chooseFile(side, &format);
    if (file.isEmpty())
        return;
    save(*shown, side, file, format);
}

// A pane counts once a line in it was picked: a window gives its first pane the focus on its own.
JsonView *ComparePanel::focusedView() const
{
    for (JsonView *view : { m_cached, m_live }) {
        if (view->hasFocus() && view->hasDocument() && view->currentLine() >= 0)
            return view;
    }
    return nullptr;
}

QString ComparePanel::selectionJson() const
{
    if (JsonView *view = focusedView())
        return view->currentJson();
    JsonView *view = m_live->hasDocument() ? m_live : m_cached;
    if (!view->hasDocument())
        return {};
    return nodeJson(view->document(), view->document().nodeOf(m_shownPath));
}

QString ComparePanel::selectionPath() const
{
    if (JsonView *view = focusedView())
        return view->currentPath();
    return m_shownPath;
}

void ComparePanel::copySelectionJson()
{
    const QString json = selectionJson();
    if (json.isEmpty()) {
        emit message(tr("Nothing to copy: no document is shown"), true);
        return;
    }
    QApplication::clipboard()->setText(json);
    const QString path = selectionPath();
    emit message(tr("Copied the JSON of %1 (%2)")
                     .arg(path.isEmpty() ? tr("the whole document") : path, formatBytes(json.toUtf8().size())),
                 false);
}
