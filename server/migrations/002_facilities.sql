-- Facilities: the management components (管理部件) of GB/T 47678.5-2026 — manhole
-- covers, lights, boxes, signs, trees … — each a point, line or polygon in WGS84
-- with its owner (权属单位), maintainer (养护单位) and authority (主管单位), its
-- status and the cell it lies in. What routes a missing cover to its utility.

-- Organisations own, maintain and supervise components. Kinds in use:
-- command_centre (subdistrict 网格化服务管理中心, made by the grid import),
-- subdistrict_office (街道办事处/地区办事处), utility (water, drainage, power, gas, heat),
-- telecom (operators, cable TV, tower company), department (district and city bodies),
-- police, public_service (事业单位: lighting, sanitation, parks), company (others).
ALTER TABLE organisations ADD COLUMN short_name text;
ALTER TABLE organisations ADD COLUMN contact_person text;
-- 24-hour service line of the organisation (95598, 96116 …); contact_phone is the desk of contact_person.
ALTER TABLE organisations ADD COLUMN duty_phone text;
ALTER TABLE organisations ADD COLUMN address text;
CREATE INDEX organisations_kind_idx ON organisations (kind);

CREATE TABLE component_majors (
  code char(2) PRIMARY KEY CHECK (code ~ '^0[1-5]$'),
  name text NOT NULL
);
INSERT INTO component_majors (code, name) VALUES
  ('01', '市政公用设施'), ('02', '交通设施'), ('03', '市容环卫设施'), ('04', '园林绿化设施'), ('05', '其他管理部件');

-- The 153 subclasses of GB/T 47678.5-2026 annex A, table A.1, as in
-- fixtures/reference/gbt47678-5-components.csv (tests/facilities-classes.test.ts checks they agree).
-- geometry_kind is how the component is usually drawn; a hint for clients, not enforced.
CREATE TABLE component_classes (
  code char(5) PRIMARY KEY CHECK (code ~ '^0[1-5][0-9]{3}$'),
  major char(2) NOT NULL REFERENCES component_majors (code),
  name text NOT NULL,
  geometry_kind text NOT NULL DEFAULT 'point' CHECK (geometry_kind IN ('point', 'line', 'polygon')),
  CHECK (substr(code, 1, 2) = major)
);
INSERT INTO component_classes (code, major, name) VALUES
  ('01001', '01', '供水井盖'),
  ('01002', '01', '污水井盖'),
  ('01003', '01', '雨水井盖'),
  ('01004', '01', '雨水箅子'),
  ('01005', '01', '电力井盖'),
  ('01006', '01', '路灯井盖'),
  ('01007', '01', '通信井盖'),
  ('01008', '01', '电视井盖'),
  ('01009', '01', '网络井盖'),
  ('01010', '01', '热力井盖'),
  ('01011', '01', '燃气井盖'),
  ('01012', '01', '公安井盖'),
  ('01013', '01', '消防设施'),
  ('01014', '01', '园林井盖'),
  ('01015', '01', '信号灯电源井盖'),
  ('01017', '01', '电缆井盖'),
  ('01018', '01', '化粪池井盖'),
  ('01019', '01', '中水井盖'),
  ('01020', '01', '公交井盖'),
  ('01021', '01', '输油（气）井盖'),
  ('01022', '01', '特殊井盖'),
  ('01023', '01', '不明井盖'),
  ('01024', '01', '水井'),
  ('01025', '01', '供水器'),
  ('01026', '01', '沟槽盖板'),
  ('01027', '01', '通信交接箱'),
  ('01028', '01', '电力设施'),
  ('01029', '01', '电力设施标识牌'),
  ('01030', '01', '电力立杆'),
  ('01031', '01', '通信立杆'),
  ('01032', '01', '公交立杆'),
  ('01033', '01', '特殊立杆'),
  ('01034', '01', '不明立杆'),
  ('01035', '01', '旗杆'),
  ('01036', '01', '输油（气）标志'),
  ('01037', '01', '路灯'),
  ('01038', '01', '地灯'),
  ('01039', '01', '景观灯'),
  ('01040', '01', '报刊亭'),
  ('01041', '01', '电话亭'),
  ('01042', '01', '邮筒'),
  ('01043', '01', '信息亭'),
  ('01044', '01', '售货亭'),
  ('01045', '01', '自动售货机'),
  ('01046', '01', '户外健身设施'),
  ('01047', '01', '高压线铁塔'),
  ('01048', '01', '变压器（箱）'),
  ('01049', '01', '燃气调压站（箱）'),
  ('01050', '01', '监控电子眼设施'),
  ('01051', '01', '治安岗亭'),
  ('01052', '01', '休息亭'),
  ('01053', '01', '自助缴费机'),
  ('01054', '01', '充电桩'),
  ('01055', '01', '防蚊闸'),
  ('01056', '01', '跨河管道'),
  ('01057', '01', '露天燃气管道'),
  ('01058', '01', '晒衣架'),
  ('01059', '01', '旧衣物回收箱'),
  ('01060', '01', '路灯配电箱'),
  ('01061', '01', '露天供热管道'),
  ('01062', '01', '通信基站'),
  ('01063', '01', '水塔'),
  ('01064', '01', '牌楼（门楼）'),
  ('01065', '01', '管理责任公示牌'),
  ('01066', '01', '紧急报警点SOS'),
  ('01067', '01', '防汛监测设施'),
  ('01068', '01', '水鹤'),
  ('01069', '01', '水域附属设施'),
  ('01070', '01', '水域护栏'),
  ('01071', '01', '防汛墙'),
  ('01072', '01', '排水泵站'),
  ('01073', '01', '雨污水排放口'),
  ('01074', '01', '综合管廊附属设施'),
  ('01075', '01', '快递柜'),
  ('01076', '01', '公用电梯'),
  ('01077', '01', '综合杆'),
  ('02001', '02', '停车场'),
  ('02002', '02', '立体车库'),
  ('02003', '02', '停车计费设备'),
  ('02004', '02', '公交站设施'),
  ('02005', '02', '出租车停靠站'),
  ('02006', '02', '过街天桥'),
  ('02007', '02', '地下通道'),
  ('02008', '02', '立交桥'),
  ('02009', '02', '跨河桥'),
  ('02010', '02', '交通标志牌及标线'),
  ('02011', '02', '限高架标志'),
  ('02012', '02', '路名牌'),
  ('02013', '02', '地名牌'),
  ('02014', '02', '交通信号灯'),
  ('02015', '02', '交通信号设施'),
  ('02016', '02', '交通岗亭'),
  ('02017', '02', '交通护栏'),
  ('02018', '02', '防撞桶'),
  ('02019', '02', '安全岛'),
  ('02020', '02', '人行横道桩'),
  ('02021', '02', '便道桩'),
  ('02022', '02', '柔性隔离体'),
  ('02023', '02', '道路信息显示屏'),
  ('02024', '02', '道路隔音屏'),
  ('02025', '02', '非机动车停放点'),
  ('02026', '02', '自行车租赁点'),
  ('02027', '02', '存车支架'),
  ('02028', '02', '铁道口设施'),
  ('02029', '02', '栈桥'),
  ('02030', '02', '水域标示牌'),
  ('02031', '02', '港监设施'),
  ('02032', '02', '轨道交通设施'),
  ('02033', '02', '交通反视镜'),
  ('02034', '02', '无障碍设施'),
  ('02035', '02', '应急避难指示牌'),
  ('02036', '02', '救助站指示牌'),
  ('02037', '02', '文物建筑标志牌'),
  ('02038', '02', '门（楼号）牌'),
  ('02039', '02', '公安指示牌'),
  ('02040', '02', '景区标识牌'),
  ('02041', '02', '停车信息显示屏'),
  ('02042', '02', '铁路桥涵'),
  ('02043', '02', '减速带'),
  ('02044', '02', '公路隧道'),
  ('03001', '03', '公共厕所'),
  ('03002', '03', '公厕指示牌'),
  ('03003', '03', '化粪池'),
  ('03004', '03', '垃圾间（楼）'),
  ('03005', '03', '垃圾箱'),
  ('03006', '03', '户外广告'),
  ('03007', '03', '牌匾标识'),
  ('03008', '03', '宣传栏'),
  ('03009', '03', '气象监测站'),
  ('03010', '03', '环保监测站'),
  ('03011', '03', '污水口监测站'),
  ('03012', '03', '污水监测器'),
  ('03013', '03', '噪声显示屏'),
  ('03014', '03', '环卫工具间（箱）'),
  ('03015', '03', '宠物拾便纸箱'),
  ('03016', '03', '烟头收集器或灭烟处'),
  ('04001', '04', '古树名木'),
  ('04002', '04', '行道树'),
  ('04003', '04', '独立树'),
  ('04004', '04', '护树设施'),
  ('04005', '04', '花架花钵'),
  ('04006', '04', '雕塑'),
  ('04007', '04', '街头座椅'),
  ('04008', '04', '绿地护栏'),
  ('04009', '04', '绿地附属设施'),
  ('04010', '04', '喷泉'),
  ('04011', '04', '树池树穴'),
  ('04012', '04', '高架挂箱'),
  ('04013', '04', '绿地'),
  ('04014', '04', '林地及林地管护设施'),
  ('05002', '05', '公房地下室'),
  ('05003', '05', '车辆加油（气、电）站'),
  ('05009', '05', '文物古迹');
UPDATE component_classes SET geometry_kind = 'line'
  WHERE code IN ('01056', '01057', '01061', '01070', '01071', '02006', '02007', '02017', '02022', '02024', '02043', '04008');
UPDATE component_classes SET geometry_kind = 'polygon'
  WHERE code IN ('02001', '02002', '02008', '02019', '02044', '04013', '04014', '05003', '05009');

-- The plane lookups rank in: lon/lat scaled by the metres per degree of the WGS84
-- ellipsoid at 39.95° N, the district's middle (SRID 0: it is no registered CRS).
-- Within the district (39.82°–40.08° N) its east–west scale is off by at most 0.3 %,
-- nothing at the tens of metres a lookup spans; what matters is that the in-memory
-- index (geocoder/facility-geometry.ts, same two constants) ranks by the very same
-- numbers, so both answer the same ids in the same order.
CREATE FUNCTION facility_plane(g geometry) RETURNS geometry
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT ST_SetSRID(ST_Scale(g, 85456.1, 111033.7), 0) $$;

CREATE TABLE facility_imports (
  id serial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  format text NOT NULL,
  crs text NOT NULL,
  rows integer NOT NULL,
  inserted integer NOT NULL,
  updated integer NOT NULL,
  skipped integer NOT NULL
);

-- Component ID, 17 digits: district (6, GB/T 2260) + major (2) + sub (3) + sequence (6).
-- No foreign keys to component_classes and organisations: checking four keys per
-- row costs several times the load itself on the embedded database (250,000 rows),
-- and the import checks subclass and organisations itself (all rows at once, with
-- row numbers in the answer). Classes and organisations are never deleted.
CREATE TABLE facilities (
  -- digits only is checked by the import; a regular expression per row is dear on the embedded database
  id char(17) PRIMARY KEY CHECK (length(id) = 17 AND substr(id, 12, 6) <> '000000'),
  subclass char(5) NOT NULL,
  -- Point, LineString, Polygon or their Multi- forms (the import admits no others); the type modifier holds the SRID to 4326
  geom geometry(Geometry, 4326) NOT NULL,
  -- Ranked by the GiST index below: ORDER BY geom_m <-> facility_plane(point).
  geom_m geometry GENERATED ALWAYS AS (facility_plane(geom)) STORED,
  owner char(18) NOT NULL,
  maintainer char(18),
  authority char(18),
  status text NOT NULL DEFAULT 'intact' CHECK (status IN ('intact', 'damaged', 'missing', 'occupied', 'abandoned')),
  installed_on date,
  -- The cell that covers it (its point on surface for lines and polygons), smallest code
  -- first. No foreign key: a grid import replaces the cells wholesale and then
  -- reassigns; codes are never reused, so a code here always meant this place.
  cell_code char(15),
  name text,
  note text,
  import_id integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (substr(id, 7, 5) = subclass)
);
CREATE INDEX facilities_geom_m_idx ON facilities USING gist (geom_m);
CREATE INDEX facilities_cell_idx ON facilities (cell_code);

-- Bumped in every transaction that writes facilities, so a server can tell that
-- another process (the CLI) changed them and rebuild its in-memory index.
CREATE TABLE facility_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision bigint NOT NULL
);
INSERT INTO facility_state (revision) VALUES (0);
