-- What the public sees of a case's photos (市民可见的照片). A resident who reported a case
-- sees the photos they uploaded themselves, and of the rest only those the district
-- publishes: each photo a command-centre operator, dispatcher or admin publishes
-- (POST /api/cases/:id/photos/:photo/publish), and — while publish_result_photos is on,
-- as by default — the photos of the repair and of its verification (the handle and
-- verify steps), which show the result. Other reporters' photos, handlers' progress
-- photos and anything unpublished stay with the staff.
ALTER TABLE case_photos ADD COLUMN published boolean;
ALTER TABLE case_settings ADD COLUMN publish_result_photos boolean NOT NULL DEFAULT true;
