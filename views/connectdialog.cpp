#include "connectdialog.h"

#include "db/databaseconfig.h"

#include <QCheckBox>
#include <QDir>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

ConnectDialog::ConnectDialog(const QString &demoDatabase, QWidget *parent)
    : QDialog(parent)
    , m_demoDatabase(demoDatabase)
{
    setWindowTitle(tr("Connect to a Django Database"));
    createWidgets();
    connectSignals();
    const auto recent = recentConnections();
    if (!recent.isEmpty()) {
        setSpec(recent.first());
    } else if (!m_demoDatabase.isEmpty() && QFileInfo::exists(m_demoDatabase)) {
        ConnectionSpec demo;
        demo.database = m_demoDatabase;
        setSpec(demo);
    }
    updateStoreFields();
    refreshRecent();
    createHint();
}

// First start: nothing recent and no demo file. Offer to write one instead of an empty form (the
// hint sits above the form, so the form is "below").
void ConnectDialog::createHint()
{
    if (!recentConnections().isEmpty() || (!m_demoDatabase.isEmpty() && QFileInfo::exists(m_demoDatabase)))
        return;
    const QString text = m_demoDatabase.isEmpty()
        ? tr("No demo database yet: run <code>preserve seed</code> to write one, or choose a Django database below.")
        : tr("No demo database yet. Create Demo Database writes one to <code>%1</code> (as <code>preserve seed</code> "
             "does, in a few seconds) and connects to it; or choose a Django database below.")
              .arg(QDir::toNativeSeparators(m_demoDatabase).toHtmlEscaped());
    m_hint->setText(text);
    m_hint->show();
    m_createDemo->setVisible(!m_demoDatabase.isEmpty());
}

void ConnectDialog::createWidgets()
{
    m_recent = new QComboBox(this);
    m_recent->setObjectName(QStringLiteral("recent"));
    m_database = new QLineEdit(this);
    m_database->setPlaceholderText(tr("/path/to/db.sqlite3 or postgresql://user:password@host:5432/dbname"));
    m_database->setMinimumWidth(420);
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &ConnectDialog::chooseFile);
    auto *databaseRow = new QHBoxLayout;
    databaseRow->addWidget(m_database, 1);
    databaseRow->addWidget(browse);
    m_appLabel = new QLineEdit(QStringLiteral("api"), this);
    m_store = new QComboBox(this);
    m_store->addItem(tr("Database column (pre_serialized)"), QStringLiteral("db"));
    m_store->addItem(tr("Redis"), QStringLiteral("redis"));
    m_redisUrl = new QLineEdit(QStringLiteral("redis://127.0.0.1:6379/0"), this);
    m_redisPrefix = new QLineEdit(QStringLiteral("preserve:"), this);
    m_readOnly = new QCheckBox(tr("Read-only: never write to the database or the store"), this);
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828"));
    m_error->hide();
    m_hint = new QLabel(this);
    m_hint->setObjectName(QStringLiteral("hint"));
    m_hint->setWordWrap(true);
    m_hint->setTextFormat(Qt::RichText);
    m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hint->hide();
    m_createDemo = new QPushButton(tr("Create Demo Database"), this);
    m_createDemo->setObjectName(QStringLiteral("createDemo"));
    m_createDemo->hide();
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Connect"));
    m_busyText = new QLabel(this);
    m_busyText->setObjectName(QStringLiteral("busyText"));
    auto *busyBar = new QProgressBar(this);
    busyBar->setRange(0, 0); // busy: no end known
    busyBar->setMaximumHeight(12);
    busyBar->setTextVisible(false);
    m_busyRow = new QWidget(this);
    m_busyRow->setObjectName(QStringLiteral("busy"));
    auto *busyLayout = new QHBoxLayout(m_busyRow);
    busyLayout->setContentsMargins(0, 0, 0, 0);
    busyLayout->addWidget(m_busyText, 1);
    busyLayout->addWidget(busyBar, 1);
    m_busyRow->hide();

    auto *form = new QFormLayout;
    form->addRow(tr("&Recent:"), m_recent);
    // A row holding a layout gets a label without a buddy, which shows its "&" literally.
    auto *databaseLabel = new QLabel(tr("&Database:"), this);
    databaseLabel->setBuddy(m_database);
    form->addRow(databaseLabel, databaseRow);
    form->addRow(tr("&App label:"), m_appLabel);
    form->addRow(tr("&Store:"), m_store);
    form->addRow(tr("Redis &URL:"), m_redisUrl);
    form->addRow(tr("Key &prefix:"), m_redisPrefix);
    form->addRow(QString(), m_readOnly);
    m_form = new QWidget(this);
    m_form->setLayout(form);
    form->setContentsMargins(0, 0, 0, 0);
    auto *hintRow = new QHBoxLayout;
    hintRow->addWidget(m_hint, 1);
    hintRow->addWidget(m_createDemo, 0, Qt::AlignTop);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(hintRow);
    layout->addWidget(m_form);
    layout->addWidget(m_error);
    layout->addWidget(m_busyRow);
    layout->addWidget(m_buttons);
}

void ConnectDialog::connectSignals()
{
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ConnectDialog::requestConnection);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ConnectDialog::reject);
    connect(m_createDemo, &QPushButton::clicked, this, &ConnectDialog::createDemoRequested);
    connect(m_store, &QComboBox::currentIndexChanged, this, &ConnectDialog::updateStoreFields);
    // Typed passwords are masked once the field is left (or Enter pressed); spec() restores them.
    connect(m_database, &QLineEdit::editingFinished, this,
            [this] { showUrl(m_database, &m_realDatabase, UrlPasswords::restore(m_database->text(), m_realDatabase)); });
    connect(m_redisUrl, &QLineEdit::editingFinished, this,
            [this] { showUrl(m_redisUrl, &m_realRedisUrl, UrlPasswords::restore(m_redisUrl->text(), m_realRedisUrl)); });
    connect(m_recent, &QComboBox::activated, this, [this](int index) {
        if (index > 0)
            setSpec(ConnectionSpec::fromVariant(m_recent->itemData(index).toMap()));
    });
}

void ConnectDialog::setSpec(const ConnectionSpec &spec)
{
    showUrl(m_database, &m_realDatabase, spec.database);
    m_appLabel->setText(spec.appLabel);
    m_store->setCurrentIndex(qMax(0, m_store->findData(spec.store)));
    showUrl(m_redisUrl, &m_realRedisUrl, spec.redisUrl);
    m_redisPrefix->setText(spec.redisPrefix);
    m_readOnly->setChecked(spec.readOnly);
    updateStoreFields();
}

ConnectionSpec ConnectDialog::spec() const
{
    ConnectionSpec spec;
    spec.database = UrlPasswords::restore(m_database->text(), m_realDatabase).trimmed();
    spec.appLabel = m_appLabel->text().trimmed();
    spec.store = m_store->currentData().toString();
    spec.redisUrl = UrlPasswords::restore(m_redisUrl->text(), m_realRedisUrl).trimmed();
    spec.redisPrefix = m_redisPrefix->text();
    spec.readOnly = m_readOnly->isChecked();
    return spec;
}

void ConnectDialog::showUrl(QLineEdit *field, QString *real, const QString &url)
{
    *real = url;
    field->setText(UrlPasswords::mask(url));
}

void ConnectDialog::updateStoreFields()
{
    const bool redis = m_store->currentData().toString() == QLatin1String("redis");
    m_redisUrl->setEnabled(redis);
    m_redisPrefix->setEnabled(redis);
}

void ConnectDialog::chooseFile()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("SQLite Database"), m_database->text(),
                                                      tr("SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)"));
    if (!file.isEmpty())
        showUrl(m_database, &m_realDatabase, file);
}

void ConnectDialog::requestConnection()
{
    m_error->hide();
    const ConnectionSpec current = spec();
    if (auto config = current.cacheConfig(); !config) {
        connectionFailed(config.error().message);
        return;
    }
    emit connectRequested(current);
}

void ConnectDialog::connectNow()
{
    requestConnection();
}

void ConnectDialog::connectionFailed(const QString &message)
{
    setBusy(QString());
    m_error->setText(UrlPasswords::mask(message));
    m_error->setVisible(!message.isEmpty());
}

void ConnectDialog::setBusy(const QString &text)
{
    m_busy = !text.isEmpty();
    m_busyText->setText(text);
    m_busyRow->setVisible(m_busy);
    m_form->setEnabled(!m_busy);
    m_createDemo->setEnabled(!m_busy);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!m_busy);
    if (m_busy) {
        m_error->hide();
        setCursor(Qt::BusyCursor);
    } else {
        unsetCursor();
    }
}

void ConnectDialog::reject()
{
    if (m_busy) {
        emit cancelRequested();
        return;
    }
    QDialog::reject();
}

void ConnectDialog::refreshRecent()
{
    m_recent->clear();
    m_recent->addItem(tr("Choose a recent connection…"));
    for (const ConnectionSpec &spec : recentConnections())
        m_recent->addItem(spec.displayName(), spec.toVariant());
    if (!m_demoDatabase.isEmpty() && QFileInfo::exists(m_demoDatabase)) {
        ConnectionSpec demo;
        demo.database = m_demoDatabase;
        m_recent->addItem(tr("Demo database (%1)").arg(m_demoDatabase), demo.toVariant());
    }
    if (m_hint->isVisible() && (!recentConnections().isEmpty() || QFileInfo::exists(m_demoDatabase))) {
        m_hint->hide(); // written or connected since: nothing to offer any more
        m_createDemo->hide();
    }
}

QList<ConnectionSpec> ConnectDialog::recentConnections()
{
    return RecentConnections::list();
}

void ConnectDialog::clearRecent()
{
    RecentConnections::clear();
}

void ConnectDialog::remember(const ConnectionSpec &spec)
{
    RecentConnections::remember(spec);
}
