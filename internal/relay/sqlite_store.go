package relay

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"time"
)

// This file is SQLiteStorage's implementation of the Storage methods.

// Register implements Storage.
func (s *SQLiteStorage) Register(ctx context.Context, a Address, identityKey []byte, now time.Time) error {
	return s.update(ctx, func(tx *sql.Tx) error {
		var key []byte
		err := tx.QueryRowContext(ctx, `SELECT identity_key FROM accounts WHERE name = ? AND device = ?`,
			a.Name, a.DeviceID).Scan(&key)
		switch {
		case err == nil:
			if subtle.ConstantTimeCompare(key, identityKey) != 1 {
				return ErrAddressTaken
			}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO accounts (name, device, identity_key, created) VALUES (?, ?, ?, ?)`,
			a.Name, a.DeviceID, identityKey, now.UnixMilli())
		return err
	})
}

// IdentityKey implements Storage.
func (s *SQLiteStorage) IdentityKey(ctx context.Context, a Address) ([]byte, error) {
	var key []byte
	err := s.r.QueryRowContext(ctx, `SELECT identity_key FROM accounts WHERE name = ? AND device = ?`,
		a.Name, a.DeviceID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownAddress
	}
	return key, err
}

// exists returns ErrUnknownAddress if a is not registered.
func exists(ctx context.Context, tx *sql.Tx, a Address) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE name = ? AND device = ?`, a.Name, a.DeviceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrUnknownAddress
	}
	return err
}

// PutKeys implements Storage.
func (s *SQLiteStorage) PutKeys(ctx context.Context, a Address, k *Keys, maxOneTime int) error {
	return s.update(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, a); err != nil {
			return err
		}
		if k.RegistrationID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET registration_id = ? WHERE name = ? AND device = ?`,
				k.RegistrationID, a.Name, a.DeviceID); err != nil {
				return err
			}
		}
		if sp := k.SignedPreKey; sp != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts
				SET signed_prekey_id = ?, signed_prekey = ?, signed_prekey_signature = ?
				WHERE name = ? AND device = ?`,
				sp.ID, sp.PublicKey, sp.Signature, a.Name, a.DeviceID); err != nil {
				return err
			}
		}
		if lr := k.LastResortKyber; lr != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE accounts
				SET last_resort_id = ?, last_resort_key = ?, last_resort_signature = ?
				WHERE name = ? AND device = ?`,
				lr.ID, lr.PublicKey, lr.Signature, a.Name, a.DeviceID); err != nil {
				return err
			}
		}
		for _, p := range k.PreKeys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO prekeys (name, device, id, public_key) VALUES (?, ?, ?, ?)
				ON CONFLICT (name, device, id) DO UPDATE SET public_key = excluded.public_key`,
				a.Name, a.DeviceID, p.ID, p.PublicKey); err != nil {
				return err
			}
		}
		for _, p := range k.KyberPreKeys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kyber_prekeys (name, device, id, public_key, signature) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (name, device, id) DO UPDATE SET public_key = excluded.public_key, signature = excluded.signature`,
				a.Name, a.DeviceID, p.ID, p.PublicKey, p.Signature); err != nil {
				return err
			}
		}
		ec, kyber, err := keyCounts(ctx, tx, a)
		if err != nil {
			return err
		}
		if ec > maxOneTime || kyber > maxOneTime {
			return ErrTooManyPreKeys
		}
		return nil
	})
}

func keyCounts(ctx context.Context, tx *sql.Tx, a Address) (ec, kyber int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM prekeys WHERE name = ?1 AND device = ?2),
		(SELECT count(*) FROM kyber_prekeys WHERE name = ?1 AND device = ?2)`,
		a.Name, a.DeviceID).Scan(&ec, &kyber)
	return ec, kyber, err
}

// KeyCounts implements Storage.
func (s *SQLiteStorage) KeyCounts(ctx context.Context, a Address) (ec, kyber int, err error) {
	err = s.view(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, a); err != nil {
			return err
		}
		ec, kyber, err = keyCounts(ctx, tx, a)
		return err
	})
	return ec, kyber, err
}

// TakeBundle implements Storage.
func (s *SQLiteStorage) TakeBundle(ctx context.Context, a Address) (*Bundle, error) {
	var b *Bundle
	err := s.update(ctx, func(tx *sql.Tx) error {
		b = &Bundle{DeviceID: a.DeviceID}
		var (
			spkID, lrID   sql.NullInt64
			lrKey, lrSig  []byte
			spkKey, spSig []byte
		)
		err := tx.QueryRowContext(ctx, `SELECT identity_key, registration_id,
			signed_prekey_id, signed_prekey, signed_prekey_signature,
			last_resort_id, last_resort_key, last_resort_signature
			FROM accounts WHERE name = ? AND device = ?`, a.Name, a.DeviceID).Scan(
			&b.IdentityKey, &b.RegistrationID, &spkID, &spkKey, &spSig, &lrID, &lrKey, &lrSig)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownAddress
		}
		if err != nil {
			return err
		}
		if !spkID.Valid {
			return ErrNoKeys
		}
		b.SignedPreKeyID, b.SignedPreKey, b.SignedPreKeySignature = uint32(spkID.Int64), spkKey, spSig

		// DELETE ... RETURNING takes the oldest key in one statement.
		err = tx.QueryRowContext(ctx, `DELETE FROM kyber_prekeys WHERE rowid =
			(SELECT rowid FROM kyber_prekeys WHERE name = ? AND device = ? ORDER BY rowid LIMIT 1)
			RETURNING id, public_key, signature`, a.Name, a.DeviceID).Scan(
			&b.KyberPreKeyID, &b.KyberPreKey, &b.KyberPreKeySignature)
		switch {
		case errors.Is(err, sql.ErrNoRows) && lrID.Valid:
			b.KyberPreKeyID, b.KyberPreKey, b.KyberPreKeySignature = uint32(lrID.Int64), lrKey, lrSig
		case errors.Is(err, sql.ErrNoRows):
			return ErrNoKeys
		case err != nil:
			return err
		}

		err = tx.QueryRowContext(ctx, `DELETE FROM prekeys WHERE rowid =
			(SELECT rowid FROM prekeys WHERE name = ? AND device = ? ORDER BY rowid LIMIT 1)
			RETURNING id, public_key`, a.Name, a.DeviceID).Scan(&b.PreKeyID, &b.PreKey)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no one-time EC prekey: the bundle has none
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// PutMessage implements Storage.
func (s *SQLiteStorage) PutMessage(ctx context.Context, to Address, e *Envelope, maxMailbox int) (int64, error) {
	var seq int64
	err := s.update(ctx, func(tx *sql.Tx) error {
		// One statement both checks the bound and reserves the number.
		err := tx.QueryRowContext(ctx, `UPDATE accounts SET next_seq = next_seq + 1, pending = pending + 1
			WHERE name = ? AND device = ? AND pending < ? RETURNING next_seq - 1`,
			to.Name, to.DeviceID, maxMailbox).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			if err := exists(ctx, tx, to); err != nil {
				return err
			}
			return ErrMailboxFull
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO messages
			(name, device, seq, id, sender_name, sender_device, type, body, received)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			to.Name, to.DeviceID, seq, e.ID, e.From.Name, e.From.DeviceID, e.Type, nonNil(e.Body), e.Received.UnixMilli())
		return err
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// nonNil returns b, or an empty slice for nil: the driver would store nil
// as NULL, which the NOT NULL body column refuses.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Messages implements Storage.
func (s *SQLiteStorage) Messages(ctx context.Context, to Address, after int64, limit, maxBytes int) ([]StoredEnvelope, bool, error) {
	var (
		out  []StoredEnvelope
		more bool
	)
	err := s.view(ctx, func(tx *sql.Tx) error {
		out, more = nil, false
		rows, err := tx.QueryContext(ctx, `SELECT seq, id, sender_name, sender_device, type, body, received
			FROM messages WHERE name = ? AND device = ? AND seq > ? ORDER BY seq LIMIT ?`,
			to.Name, to.DeviceID, after, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		total := 0
		for rows.Next() {
			var (
				m        StoredEnvelope
				received int64
			)
			if err := rows.Scan(&m.Seq, &m.ID, &m.From.Name, &m.From.DeviceID, &m.Type, &m.Body, &received); err != nil {
				return err
			}
			if len(out) == limit || len(out) > 0 && total+len(m.Body) > maxBytes {
				more = true
				break
			}
			m.Received = time.UnixMilli(received).UTC()
			total += len(m.Body)
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// DeleteMessage implements Storage.
func (s *SQLiteStorage) DeleteMessage(ctx context.Context, to Address, id string) error {
	return s.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE name = ? AND device = ? AND id = ?`,
			to.Name, to.DeviceID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrUnknownMessage
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET pending = pending - 1 WHERE name = ? AND device = ?`,
			to.Name, to.DeviceID)
		return err
	})
}
