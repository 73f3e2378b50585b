#include "comparisonsaver.h"

#include "core/bytesize.h"
#include "core/savefile.h"

#include <QDir>
#include <QFileDialog>

ComparisonSaver::ComparisonSaver(QWidget *dialogParent)
    : QObject(dialogParent)
    , m_dialogParent(dialogParent)
{
}

QString ComparisonSaver::sideName(const DocumentComparison &comparison, Side side)
{
    if (side == Side::Cached)
        return tr("cached");
    return comparison.againstPrevious ? tr("previous") : tr("live");
}

QByteArray ComparisonSaver::sideBytes(const DocumentComparison &c, Side side, Format format)
{
    const FormattedJson &document = side == Side::Cached ? c.formatted.before : c.formatted.after;
    if (format == Format::Pretty) {
        if (document.lineCount() == 0)
            return {};
        QByteArray pretty = document.text.toUtf8();
        pretty.append('\n');
        return pretty;
    }
    // The store's bytes as they are, even when they are not valid JSON (a corrupt entry).
    if (side == Side::Cached)
        return !c.storedBytes.isEmpty() ? c.storedBytes : c.entry ? c.entry->body : QByteArray();
    return c.liveBody; // the serializer's own bytes
}

bool ComparisonSaver::isShown(const DocumentComparisonPtr &comparison)
{
    if (!comparison)
        emit message(tr("Nothing to save: select a Foo first"), true);
    return comparison != nullptr;
}

bool ComparisonSaver::save(const DocumentComparisonPtr &shown, Side side, const QString &fileName, Format format)
{
    if (!isShown(shown))
        return false;
    const DocumentComparison &comparison = *shown;
    const QByteArray bytes = sideBytes(comparison, side, format);
    if (bytes.isEmpty()) {
        emit message(tr("Nothing to save: the %1 side of Foo %2 has no body")
                         .arg(sideName(comparison, side))
                         .arg(comparison.pk),
                     true);
        return false;
    }
    // All or nothing: a failed write leaves the target as it was.
    if (const Status saved = saveFile(fileName, bytes); !saved) {
        emit message(tr("Cannot save the %1 body of Foo %2 to %3")
                         .arg(sideName(comparison, side))
                         .arg(comparison.pk)
                         .arg(saved.error().message),
                     true);
        return false;
    }
    emit message(tr("Saved the %1 body of Foo %2 (%3, %4) to %5")
                     .arg(sideName(comparison, side))
                     .arg(comparison.pk)
                     .arg(format == Format::Compact ? tr("compact") : tr("pretty-printed"), formatBytes(bytes.size()),
                          QDir::toNativeSeparators(fileName)),
                 false);
    return true;
}

void ComparisonSaver::setFileChooser(FileChooser chooser)
{
    m_chooser = std::move(chooser);
}

QString ComparisonSaver::chooseFile(const DocumentComparison &shown, Side side, Format *format)
{
    // Say which bytes "compact" means: a store that keeps parsed JSON (PostgreSQL's jsonb) has no
    // bytes of its own, so its compact form is the canonical one, not what was written.
    const bool canonical = side == Side::Cached && shown.storedBytes.isEmpty();
    const QString compact = canonical ? tr("Compact JSON, canonical: this store keeps parsed JSON, not bytes (*.json)")
                                      : tr("Compact JSON, byte for byte as stored or sent (*.json)");
    const QString pretty = tr("Pretty-printed JSON, as shown (*.json)");
    QString filter = compact;
    const QString name = sideName(shown, side);
    const QString suggested = QStringLiteral("foo-%1-%2.json").arg(shown.pk).arg(name);
    const QString title = side == Side::Cached ? tr("Save Cached Body")
                          : name == tr("previous") ? tr("Save Previous Entry")
                                                   : tr("Save Live Body");
    const QString file = QFileDialog::getSaveFileName(m_dialogParent, title, suggested,
                                                      compact + QStringLiteral(";;") + pretty, &filter);
    *format = filter == pretty ? Format::Pretty : Format::Compact;
    return file;
}

void ComparisonSaver::saveAs(DocumentComparisonPtr shown, Side side)
{
    if (!isShown(shown))
        return;
    // `shown` is what was on screen when asked, and stays what is saved: the dialog runs an event
    // loop, during which a new comparison (another Foo, or this one re-read after a refresh) may
    // arrive.
    Format format = Format::Compact;
    const QString file = m_chooser ? m_chooser(side, &format) : chooseFile(*shown, side, &format);
    if (file.isEmpty())
        return;
    save(shown, side, file, format);
}
